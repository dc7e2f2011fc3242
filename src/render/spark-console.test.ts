import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../test/data.js";
import { renderBatch, renderTable, truncateCell } from "./spark-console.js";

/** Splits a captured Spark console log into its batches, each as header id, columns and raw rows. */
function parseSparkLog(text: string) {
  const batches: { id: number; text: string; columns: string[]; rows: string[][]; more: boolean }[] = [];
  const pattern = /-{43}\nBatch: (\d+)\n-{43}\n((?:[+|].*\n)+)(only showing top \d+ rows\n)?\n/g;
  for (const match of text.matchAll(pattern)) {
    const tableLines = (match[2] ?? "").trimEnd().split("\n");
    const cells = (line: string) =>
      line
        .slice(1, -1)
        .split("|")
        .map((cell) => cell.trim());
    const header = tableLines[1] ?? "";
    const body = tableLines.slice(3, -1);
    batches.push({
      id: Number(match[1]),
      text: match[0],
      columns: cells(header),
      rows: body.map(cells),
      more: match[3] !== undefined,
    });
  }
  return batches;
}

describe("renderBatch reproduces Spark's console sink byte for byte", () => {
  const captures = [
    "eventstream__fer-bonilla.txt",
    "redisstream__fer-bonilla__batch0-4.txt",
    "kafkajoin__namtranvn.txt",
    "redis-kafka__fernandodorado.txt",
  ];
  for (const file of captures) {
    it(file, () => {
      // Some captures were committed with Windows line endings.
      const text = readFileSync(dataPath("real-data", "spark-console", file), "utf8").replaceAll(
        "\r\n",
        "\n",
      );
      const batches = parseSparkLog(text);
      expect(batches.length).toBeGreaterThan(0);
      for (const batch of batches) {
        // Captured rows are already cut; re-rendering them must give back the very same text.
        const rows = batch.more ? [...batch.rows, batch.rows[0] ?? []] : batch.rows;
        expect(renderBatch(batch.id, batch.columns, rows, { truncate: true, maxRows: 20 })).toBe(batch.text);
      }
    });
  }
});

describe("renderTable", () => {
  it("cuts long cells to 17 characters and three dots", () => {
    expect(truncateCell("Christina.Hansen@test.com")).toBe("Christina.Hansen@...");
    expect(truncateCell("Frank.Ahmed@test.com")).toBe("Frank.Ahmed@test.com");
  });

  it("left-aligns and keeps whole cells without truncation", () => {
    const text = renderTable(["customer", "score"], [["Christina.Hansen@test.com", "-31.5"]], {
      truncate: false,
      maxRows: 20,
    });
    expect(text).toBe(
      [
        "+-------------------------+-----+",
        "|customer                 |score|",
        "+-------------------------+-----+",
        "|Christina.Hansen@test.com|-31.5|",
        "+-------------------------+-----+",
        "",
      ].join("\n"),
    );
  });

  it("says how many rows it shows when there are more", () => {
    const rows = [["a"], ["b"], ["c"]];
    expect(renderTable(["x"], rows, { truncate: true, maxRows: 2 })).toContain("only showing top 2 rows\n");
    expect(renderTable(["x"], rows, { truncate: true, maxRows: 1 })).toContain("only showing top 1 row\n");
    expect(renderTable(["x"], rows, { truncate: true, maxRows: 3 })).not.toContain("only showing");
  });
});
