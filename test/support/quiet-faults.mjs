// Plain JavaScript: it runs in Node (the suite's types are workerd's), in the process that runs workerd for the tests (vitest's globalSetup). The
// stand-ins' planned faults ("injected fault: ...") are what the fault tests are about, and each
// prints a line: workerd reports the error a stand-in throws from its RPC method as an uncaught
// exception of its worker, which vitest-pool-workers writes straight to stdout or stderr, and the
// engine logs each upstream failure. Hundreds of expected lines would hide a real one: they are
// dropped unless SHOW_INJECTED_FAULTS=1. (Here rather than in vitest.config.ts: vitest installs its
// own writers after loading the config.)
const INJECTED = "injected fault";

function quiet(stream) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => (String(chunk).includes(INJECTED) ? true : write(chunk, ...rest));
}

export default function quietInjectedFaults() {
  if (process.env.SHOW_INJECTED_FAULTS === "1") return;
  quiet(process.stdout);
  quiet(process.stderr);
}
