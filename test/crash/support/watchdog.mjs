// Preloaded (`node --import`) into every process the crash tests spawn: if the test process that
// started it goes away without cleaning up (killed, crashed), the child kills itself, so no
// intake, worker or emulator outlives a test run. It changes nothing else in the process.
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 500);
timer.unref();
