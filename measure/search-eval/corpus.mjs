// The search-eval corpus and its queries, generated from a fixed seed: support tickets with
// product names, part numbers (PN-48213), error codes (E1047) and prose, and queries whose right
// answers are known by construction.
//
// Each ticket has a signature: three invented 12-letter words (random letters, so no other
// ticket says them by chance and few share a trigram with them). The classes:
//   exact      the ticket's part number, or its error code (every ticket holding it is right);
//   paraphrase the signature words each misspelled (one inner letter changed): no query word is a
//              ticket word, so keyword search cannot find it and the local stand-in embedding
//              (lexical: words and character trigrams) can. A stand-in for a paraphrase, not a
//              model of one: it asks what a paraphrase asks, a match without a shared word.
//   mixed      the part number, one misspelled signature word and a symptom.
import { rng } from "../records.mjs";

const PRODUCTS = [
  "Aquaflow Pump 300",
  "ThermoMax Boiler",
  "CoolBreeze Fan X2",
  "PowerCell Battery Pack",
  "VisionPro Display",
  "SteamJet Espresso",
  "FrostGuard Freezer",
  "SilentDrive Motor",
  "ClearView Camera",
  "GreenLeaf Mower",
  "BrightBeam Lamp",
  "SwiftPrint Printer",
];
const COMPONENTS = ["valve", "seal", "impeller", "controller board", "display", "sensor", "fuse", "gasket", "fan blade", "hinge"];
const SYMPTOMS = ["leaks water", "overheats", "makes a grinding noise", "fails to start", "shuts down randomly", "flickers", "rattles"];
const FILLER =
  "the customer called again about this issue after the last visit and asked for an update on the replacement and the expected delivery date while the technician checked the unit on site and wrote down the readings for the report".split(
    " ",
  );
const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const WORD_LENGTH = 12;

function inventedWords(random, count) {
  const words = new Set();
  while (words.size < count) {
    let w = "";
    for (let i = 0; i < WORD_LENGTH; i++) w += LETTERS[Math.floor(random() * LETTERS.length)];
    words.add(w);
  }
  return [...words];
}

/** The word with one inner letter (never the first two or last two) changed to another. */
function misspelled(random, word) {
  const at = 2 + Math.floor(random() * (word.length - 4));
  const offset = 1 + Math.floor(random() * (LETTERS.length - 1));
  const letter = LETTERS[(LETTERS.indexOf(word[at]) + offset) % LETTERS.length];
  return word.slice(0, at) + letter + word.slice(at + 1);
}

const pick = (random, list) => list[Math.floor(random() * list.length)];

/** `records` tickets and `perClass` queries of each class. */
export function generate({ records = 4000, perClass = 80, seed = 20261202 } = {}) {
  const random = rng(seed);
  const vocabulary = inventedWords(random, 3000);
  const partNumbers = new Set();
  const tickets = [];
  const byCode = new Map();
  for (let i = 0; i < records; i++) {
    let part;
    do part = `PN-${10000 + Math.floor(random() * 90000)}`;
    while (partNumbers.has(part));
    partNumbers.add(part);
    const code = `E${1000 + Math.floor(random() * 1500)}`;
    const product = pick(random, PRODUCTS);
    const component = pick(random, COMPONENTS);
    const symptom = pick(random, SYMPTOMS);
    const signature = [pick(random, vocabulary), pick(random, vocabulary), pick(random, vocabulary)];
    const filler = Array.from({ length: 30 + Math.floor(random() * 40) }, () => pick(random, FILLER)).join(" ");
    const id = `T-${String(i).padStart(5, "0")}`;
    tickets.push({
      id,
      part,
      code,
      product,
      component,
      symptom,
      signature,
      data: {
        title: `${product}: ${component} ${symptom}`,
        body: `Error ${code} shown. The ${component} ${symptom}; notes mention ${signature.join(", ")}. Part ${part} ordered. ${filler}.`,
        product,
        status: pick(random, ["open", "pending", "solved"]),
      },
    });
    if (!byCode.has(code)) byCode.set(code, []);
    byCode.get(code).push(id);
  }

  const queries = [];
  const sample = () => tickets[Math.floor(random() * tickets.length)];
  for (let q = 0; q < perClass; q++) {
    const t = sample();
    queries.push(
      q % 2 === 0
        ? { class: "exact", text: t.part, relevant: [t.id] }
        : { class: "exact", text: `error ${t.code}`, relevant: byCode.get(t.code) },
    );
  }
  for (let q = 0; q < perClass; q++) {
    const t = sample();
    queries.push({
      class: "paraphrase",
      text: `${t.signature.map((w) => misspelled(random, w)).join(" ")} ${t.symptom}`,
      relevant: [t.id],
    });
  }
  for (let q = 0; q < perClass; q++) {
    const t = sample();
    queries.push({ class: "mixed", text: `${t.part} ${misspelled(random, t.signature[0])} ${t.symptom}`, relevant: [t.id] });
  }
  return { tickets, queries };
}
