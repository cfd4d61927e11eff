// Types of quota-day.mjs, for the tests that import it.
export declare function middayOffsetMinutes(nowMs: number): number;
export declare function formatOffset(minutes: number): string;
export declare function quotaDayIndex(ms: number, offsetMinutes: number): number;
