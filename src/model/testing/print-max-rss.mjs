// Node --import hook for tests: prints this process's peak resident memory to stderr at exit,
// so a test can bound what a CLI command held (resourceUsage().maxRSS is in KiB).
process.on('exit', () => {
  process.stderr.write(`max-rss-bytes ${process.resourceUsage().maxRSS * 1024}\n`);
});
