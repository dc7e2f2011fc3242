// The customer side of the join: the latest birth year per email, the only state that grows with customers.

/**
 * Latest customer per email. Birth years are kept as small integers rather than strings: with a
 * million customers the table is a map of email → number, nothing more.
 */
export class CustomerTable {
  private readonly years = new Map<string, number>();
  /** Birth years as text, made once per distinct year: the join asks for one per event. */
  private readonly yearTexts = new Map<number, string>();

  get size(): number {
    return this.years.size;
  }

  /** Records or replaces a customer. `birthYear` is the four digits written in `birthDay`. */
  upsert(email: string, birthYear: string): void {
    this.years.set(email, Number(birthYear));
  }

  /** The birth year as written (four digits, e.g. "0007"), or undefined for an unknown email. */
  birthYearOf(email: string): string | undefined {
    const year = this.years.get(email);
    if (year === undefined) return undefined;
    let text = this.yearTexts.get(year);
    if (text === undefined) {
      text = String(year).padStart(4, "0");
      this.yearTexts.set(year, text);
    }
    return text;
  }
}
