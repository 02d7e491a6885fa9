// The search-eval corpus and its queries, generated from a fixed seed: support tickets with
// product names, part numbers (PN-48213), error codes (E1047) and prose, and queries whose right
// answers are known by construction.
//
// Each ticket has a signature: three invented words (from a vocabulary of pronounceable
// non-words, so no other ticket says them by chance), written in one inflection. The classes:
//   exact      the ticket's part number, or its error code (every ticket holding it is right);
//   paraphrase the signature words in another inflection ("vorlanics" for "vorlanicked"), with the
//              ticket's product described in other words: no query word is a ticket word, so
//              keyword search cannot find it and the local stand-in embedding (lexical: words and
//              character trigrams) can. A stand-in for a paraphrase, not a model of one.
//   mixed      the part number with one signature word in another inflection and a symptom.

/** mulberry32: a small seeded PRNG, so the corpus and the queries are the same on every run. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PRODUCTS = [
  ["Aquaflow Pump 300", "water circulation unit"],
  ["ThermoMax Boiler", "heating appliance"],
  ["CoolBreeze Fan X2", "ventilation device"],
  ["PowerCell Battery Pack", "energy storage module"],
  ["VisionPro Display", "screen panel"],
  ["SteamJet Espresso", "coffee machine"],
  ["FrostGuard Freezer", "cold storage cabinet"],
  ["SilentDrive Motor", "electric drive"],
  ["ClearView Camera", "video recorder"],
  ["GreenLeaf Mower", "lawn cutter"],
  ["BrightBeam Lamp", "light fixture"],
  ["SwiftPrint Printer", "paper output device"],
];
const COMPONENTS = ["valve", "seal", "impeller", "controller board", "display", "sensor", "fuse", "gasket", "fan blade", "hinge"];
const SYMPTOMS = ["leaks water", "overheats", "makes a grinding noise", "fails to start", "shuts down randomly", "flickers", "rattles"];
const FILLER =
  "the customer called again about this issue after the last visit and asked for an update on the replacement and the expected delivery date while the technician checked the unit on site and wrote down the readings for the report".split(
    " ",
  );
const SYLLABLES = [
  "vor",
  "lan",
  "tre",
  "bus",
  "kal",
  "mir",
  "dex",
  "pol",
  "quen",
  "sar",
  "tob",
  "ul",
  "zen",
  "fra",
  "gor",
  "hil",
  "jun",
  "wex",
];
// Inflections a signature word is written in: a ticket uses one, the queries another.
const INFLECTIONS = ["s", "ed", "ing", "er", "ation"];

function inventedWords(random, count) {
  const words = new Set();
  while (words.size < count) {
    const n = 2 + Math.floor(random() * 2);
    let w = "";
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(`${w}ic`);
  }
  return [...words];
}

const pick = (random, list) => list[Math.floor(random() * list.length)];

/** `records` tickets and `perClass` queries of each class. */
export function generate({ records = 4000, perClass = 80, seed = 20261202 } = {}) {
  const random = prng(seed);
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
    const [product, described] = pick(random, PRODUCTS);
    const component = pick(random, COMPONENTS);
    const symptom = pick(random, SYMPTOMS);
    const signature = [pick(random, vocabulary), pick(random, vocabulary), pick(random, vocabulary)];
    const inflection = Math.floor(random() * INFLECTIONS.length);
    const written = signature.map((w) => w + INFLECTIONS[inflection]);
    const filler = Array.from({ length: 30 + Math.floor(random() * 40) }, () => pick(random, FILLER)).join(" ");
    const id = `T-${String(i).padStart(5, "0")}`;
    tickets.push({
      id,
      part,
      code,
      product,
      described,
      component,
      symptom,
      signature,
      inflection,
      data: {
        title: `${product}: ${component} ${symptom}`,
        body: `Error ${code} shown. The ${component} ${symptom}; notes mention ${written.join(", ")}. Part ${part} ordered. ${filler}.`,
        product,
        status: pick(random, ["open", "pending", "solved"]),
      },
    });
    if (!byCode.has(code)) byCode.set(code, []);
    byCode.get(code).push(id);
  }

  const queries = [];
  const other = (t) => INFLECTIONS[(t.inflection + 1 + Math.floor(random() * (INFLECTIONS.length - 1))) % INFLECTIONS.length];
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
    const suffix = other(t);
    queries.push({ class: "paraphrase", text: `${t.described} ${t.signature.map((w) => w + suffix).join(" ")}`, relevant: [t.id] });
  }
  for (let q = 0; q < perClass; q++) {
    const t = sample();
    queries.push({ class: "mixed", text: `${t.part} ${t.signature[0]}${other(t)} ${t.symptom}`, relevant: [t.id] });
  }
  return { tickets, queries };
}
