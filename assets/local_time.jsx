// A time in the reader's own zone, written in the first render.
//
// rx.moment writes its text in an effect: every new message took a second React commit (and a
// second frame of style, layout and paint in every open tab), and its time appeared late.
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n) => String(n).padStart(2, "0");

export function LocalTime({ value, withDay = false, className }) {
  const date = new Date(value);
  if (!value || Number.isNaN(date.getTime())) return null;
  const clock = two(date.getHours()) + ":" + two(date.getMinutes());  // as moment's "HH:mm"
  const text = withDay ? MONTHS[date.getMonth()] + " " + date.getDate() + ", " + clock : clock;
  return <time dateTime={value} title={value} className={className}>{text}</time>;
}
