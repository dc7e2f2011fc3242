// Calendar dates as the STEDI app writes them (`yyyy-MM-dd`), validated without any clock.

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The year part of a real `yyyy-MM-dd` date (as written, e.g. "0007"), or undefined for anything else. */
export function yearOfDate(text: string): string | undefined {
  const match = datePattern.exec(text);
  if (!match) return undefined;
  const [, yearText = "", monthText = "", dayText = ""] = match;
  return isRealDate(Number(yearText), Number(monthText), Number(dayText)) ? yearText : undefined;
}

/** Whether the day exists in the proleptic Gregorian calendar (Java's LocalDate agrees). */
export const isRealDate = (year: number, month: number, day: number): boolean =>
  month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
