// A message of the log re-rendered only when what it shows changed.
//
// Reflex sends a changed list whole; its delta merge keeps the objects of unchanged entries,
// but a message re-sent with a new value-equal object would still be drawn again.  Here the
// message is compared by reference, then by value, and the page-wide values it reads by
// reference (they keep theirs until the server changes them); the children are not rendered
// again when nothing changed.
import { memo } from "react";

const same = (before, after) => {
  const a = before.page || [];
  const b = after.page || [];
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  // The same object when its part of the window was not re-sent (most messages, most of the time).
  return before.message === after.message || JSON.stringify(before.message) === JSON.stringify(after.message);
};

export const KeyedMemo = memo(function KeyedMemo({ children }) {
  return children;
}, same);
