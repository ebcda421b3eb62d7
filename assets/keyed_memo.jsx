// A message of the log re-rendered only when what it shows changed.
//
// Reflex sends a changed list whole, and the browser parses it into new objects, so React's own
// memo (which compares props by reference) re-rendered every message of a list when one was
// added.  Here the message is compared by value and the page-wide values it reads by reference
// (they keep theirs until the server changes them); the children are not rendered again when
// nothing changed.
import { memo } from "react";

const same = (before, after) => {
  const a = before.page || [];
  const b = after.page || [];
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return JSON.stringify(before.message) === JSON.stringify(after.message);
};

export const KeyedMemo = memo(function KeyedMemo({ children }) {
  return children;
}, same);
