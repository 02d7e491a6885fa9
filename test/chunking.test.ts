import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunkText, piecesOf } from "../src/vectors/text";

describe("chunking", () => {
  it("the ASCII scan finds exactly the pieces the Unicode pattern finds, on any ASCII text", () => {
    const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 2000 });
    const wordy = fc.string({ unit: fc.constantFrom(..."ab Z9\t\n\x0b\x0c\r.,-_\x01\x7f"), maxLength: 4000 });
    fc.assert(
      fc.property(fc.oneof(ascii, wordy), (text) => {
        expect(piecesOf(text, "ascii")).toEqual(piecesOf(text, "pattern"));
      }),
      { numRuns: 2000 },
    );
  });

  it("cuts long runs into chunk-sized pieces, overlaps chunks, and refuses past the chunk limit", () => {
    const words = Array.from({ length: 1000 }, (_, i) => `w${i}`).join(" ");
    const chunks = chunkText(words, 100, 10);
    expect(chunks.length).toBeGreaterThan(9);
    // Each chunk starts inside the previous one (the overlap) and all text is covered.
    for (let i = 1; i < chunks.length; i++) expect(chunks[i - 1]!.includes(chunks[i]!.split(" ")[0]!)).toBe(true);
    expect(chunks.at(-1)!.endsWith("w999")).toBe(true);
    expect(() => chunkText(words, 100, 10, 5)).toThrow(/more than 5 chunks/);
    expect(chunkText("x".repeat(4000), 100, 0)).toEqual(Array.from({ length: 10 }, () => "x".repeat(400)));
    // Text with any non-ASCII character takes the Unicode pattern: "é" is a letter, so 800 of them
    // are one word (two chunk-sized parts), not 800 one-token pieces.
    expect(chunkText("é".repeat(800), 100, 0)).toEqual(["é".repeat(400), "é".repeat(400)]);
  });
});
