// Preload for the Prisma CLI: its Wasm schema engine leaves long timers behind that keep the process
// alive for seconds after `migrate deploy` has finished. Timers never hold this process open; sockets
// and child processes still do, so the CLI's real work completes before it exits.
const wrap = (original) => (...args) => {
  const timer = original(...args);
  timer?.unref?.();
  return timer;
};
globalThis.setTimeout = wrap(globalThis.setTimeout);
globalThis.setInterval = wrap(globalThis.setInterval);
