// Seeded synthetic pipeline records: task/ticket-like, about 1 KB of JSON each, 5% long enough
// to be chunked into several vectors.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "fix login crash deploy pipeline review design page mobile api latency cache invoice customer " +
  "onboarding report export import sync webhook retry timeout database index migration search filter dashboard " +
  "chart billing refund email notification schedule meeting roadmap sprint backlog estimate release hotfix"
).split(" ");
const STATUSES = ["open", "in_progress", "review", "done", "blocked"];
const PEOPLE = ["ana", "bo", "chen", "dara", "eli", "fatima", "goran", "hana"];

function sentence(r, n) {
  return Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" ");
}

export function makeRecord(r, i, version = 0) {
  const long = r() < 0.05;
  return {
    name: `${sentence(r, 5)} #${i}${version ? ` v${version}` : ""}`,
    description: long ? sentence(r, 900) : sentence(r, 80),
    status: STATUSES[Math.floor(r() * STATUSES.length)],
    priority: Math.floor(r() * 4) + 1,
    assignees: [PEOPLE[Math.floor(r() * PEOPLE.length)], PEOPLE[Math.floor(r() * PEOPLE.length)]],
    tags: [WORDS[Math.floor(r() * WORDS.length)], WORDS[Math.floor(r() * WORDS.length)]],
    due_date: `2026-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 9)}`,
    list: { id: `list_${Math.floor(r() * 50)}`, name: sentence(r, 2) },
    custom_fields: { story_points: Math.floor(r() * 13), component: WORDS[Math.floor(r() * WORDS.length)] },
    comments_count: Math.floor(r() * 20),
  };
}

/** `count` upserts with ids `${prefix}${i}`, seeded so a run is the same every time. */
export function upserts(count, { seed = 1, prefix = "task_", namespace = "clickup_tasks", offset = 0, version = 0 } = {}) {
  const r = rng(seed);
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    return { action: "upsert", id: `${prefix}${i}`, namespace, data: makeRecord(r, i, version) };
  });
}
