"""One module per region of the screen: header, sidebar, message list, composer, forms."""
