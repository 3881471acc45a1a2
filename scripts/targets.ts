// A benchmark's targets, checked where it prints them: each miss is listed at the end and the
// process exits with code 1, so a script run in CI or by hand cannot pass a missed target silently.
export class Targets {
  private readonly missed: string[] = [];
  private checked = 0;

  /** Records one target: `met` false is a miss, described by `what` (the figure and its target). */
  check(met: boolean, what: string): boolean {
    this.checked++;
    if (!met) this.missed.push(what);
    return met;
  }

  /** Prints the verdict and sets the exit code (1 when any target was missed). */
  finish(): void {
    if (this.missed.length === 0) console.log(`targets: all ${this.checked} met`);
    else {
      console.log(`targets: ${this.missed.length} of ${this.checked} MISSED:`);
      for (const m of this.missed) console.log(`  - ${m}`);
      process.exitCode = 1;
    }
  }
}
