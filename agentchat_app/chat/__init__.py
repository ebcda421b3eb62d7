"""The chat's pure logic: view models, frame handling, the message window, error wording."""
