// Types of oracle.mjs, for the tests that import it.
export declare function foldersOf(path: string): string[];
export declare function oracleBound(input: {
  changed: Iterable<string>;
  catalogue?: string[];
  urls: number;
  dirs: number;
}): {
  changedPaths: number;
  folders: string[];
  dirUnits: number;
  coveredByFolders: number;
  urlUnits: number;
  covered: number;
  coverage: number;
  sweptUnchanged: number;
  urlsOnlyCoverage: number;
};
