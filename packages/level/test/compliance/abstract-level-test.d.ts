// abstract-level ships its compliance suite as plain JavaScript without type declarations.
declare module "abstract-level/test" {
  interface SuiteOptions {
    /** tape's `test` (or a harness of it). */
    readonly test: (...args: never[]) => unknown;
    readonly factory: (options?: Record<string, unknown>) => unknown;
  }

  function suite(options: SuiteOptions): void;
  export = suite;
}
