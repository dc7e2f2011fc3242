import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "test/unit/**/*.test.ts", "bench/**/*.test.ts"],
          // kafkajs must load with the project's replacements, whichever file loads it first.
          setupFiles: ["src/adapters/kafka/kafkajs-patches.ts"],
          // The randomised differential tests run thousands of cases: seconds on a quiet machine,
          // several times that when the two cores are busy.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: ["test/unit/**"],
          globalSetup: ["test/support/stack.ts"],
          setupFiles: ["src/adapters/kafka/kafkajs-patches.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One broker on two cores: files run one at a time so timings stay meaningful.
          fileParallelism: false,
        },
      },
    ],
  },
});
