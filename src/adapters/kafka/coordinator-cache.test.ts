import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { type CoordinatorKey, createCoordinatorCache } from "./coordinator-cache.js";
import { patchesInstalled } from "./kafkajs-patches.js";

const require = createRequire(import.meta.url);

/** A broker whose requests succeed or fail as told. */
/** An error as kafkajs reports a broker's answer. */
const answer = (type: string) => Object.assign(new Error(type), { type });

/** A broker whose requests succeed, or fail once with the error it is given. */
const brokerOf = (nodeId: number) => ({
  nodeId,
  failNext: undefined as Error | undefined,
  async endTxn(): Promise<string> {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
    return `ended on ${this.nodeId}`;
  },
});
type Broker = ReturnType<typeof brokerOf>;

/** A cluster of brokers 1–3 whose coordinator for every key is `coordinator`, counting lookups. */
function cluster() {
  const brokers = new Map([1, 2, 3].map((nodeId) => [nodeId, brokerOf(nodeId)]));
  const state = { coordinator: 1, lookups: 0, down: new Set<number>() };
  const find = createCoordinatorCache<Broker>({
    find: async (_key: CoordinatorKey) => {
      state.lookups += 1;
      return brokers.get(state.coordinator) as Broker;
    },
    broker: async (nodeId) => {
      if (state.down.has(nodeId)) throw new Error(`broker ${nodeId} not found`);
      return brokers.get(nodeId) as Broker;
    },
  });
  return { brokers, state, find };
}

describe("the coordinator cache", () => {
  it("asks the cluster once per key while the coordinator answers", async () => {
    const { state, find } = cluster();
    for (let i = 0; i < 5; i += 1) {
      const broker = await find({ groupId: "txn-a", coordinatorType: 1 });
      expect(await broker.endTxn()).toBe("ended on 1");
    }
    expect(state.lookups).toBe(1);
    // Another id, or the same name as a group rather than a transactional id, is another key.
    await find({ groupId: "txn-b", coordinatorType: 1 });
    await find({ groupId: "txn-a" });
    expect(state.lookups).toBe(3);
  });

  it("asks again after the coordinator said it no longer is one, and follows it", async () => {
    const { brokers, state, find } = cluster();
    const first = await find({ groupId: "g" });
    (brokers.get(1) as Broker).failNext = answer("NOT_COORDINATOR_FOR_GROUP");
    state.coordinator = 2;
    await expect(first.endTxn()).rejects.toThrow("NOT_COORDINATOR_FOR_GROUP");
    const second = await find({ groupId: "g" });
    expect(second.nodeId).toBe(2);
    expect(await second.endTxn()).toBe("ended on 2");
    expect(state.lookups).toBe(2);
    // A failure of an old handle still makes the next lookup ask.
    await find({ groupId: "g" });
    expect(state.lookups).toBe(2);
  });

  it("asks again after a request failed without an answer (connection lost, timed out)", async () => {
    const { brokers, state, find } = cluster();
    const first = await find({ groupId: "g" });
    (brokers.get(1) as Broker).failNext = new Error("Connection closed");
    await expect(first.endTxn()).rejects.toThrow("Connection closed");
    await find({ groupId: "g" });
    expect(state.lookups).toBe(2);
  });

  it("keeps the coordinator through its own answers, such as CONCURRENT_TRANSACTIONS", async () => {
    const { brokers, state, find } = cluster();
    for (const type of ["CONCURRENT_TRANSACTIONS", "REBALANCE_IN_PROGRESS", "INVALID_PRODUCER_EPOCH"]) {
      (brokers.get(1) as Broker).failNext = answer(type);
      await expect((await find({ groupId: "g" })).endTxn()).rejects.toThrow(type);
    }
    expect(await (await find({ groupId: "g" })).endTxn()).toBe("ended on 1");
    expect(state.lookups).toBe(1);
  });

  it("asks again when the remembered broker is gone", async () => {
    const { state, find } = cluster();
    await find({ groupId: "g" });
    state.down.add(1);
    state.coordinator = 3;
    expect((await find({ groupId: "g" })).nodeId).toBe(3);
    expect(state.lookups).toBe(2);
  });

  it("remembers nothing from a failed lookup", async () => {
    let lookups = 0;
    const find = createCoordinatorCache<Broker>({
      find: async () => {
        lookups += 1;
        if (lookups === 1) throw new Error("COORDINATOR_NOT_AVAILABLE");
        return brokerOf(2);
      },
      broker: async (nodeId) => brokerOf(nodeId),
    });
    await expect(find({ groupId: "g" })).rejects.toThrow("COORDINATOR_NOT_AVAILABLE");
    expect((await find({ groupId: "g" })).nodeId).toBe(2);
    await find({ groupId: "g" });
    expect(lookups).toBe(2);
  });

  it("is what kafkajs's cluster uses", async () => {
    expect(patchesInstalled.coordinatorCache).toBe(true);
    const { prototype } = require("kafkajs/src/cluster/index.js") as { prototype: object };
    // kafkajs's own lookup, down to the request it would send, on a stand-in cluster.
    let lookups = 0;
    const cluster = Object.assign(Object.create(prototype) as object, {
      retrier: (work: (bail: (error: Error) => never) => Promise<unknown>) =>
        work((error) => {
          throw error;
        }),
      findGroupCoordinatorMetadata: async () => {
        lookups += 1;
        return { coordinator: { nodeId: 7 } };
      },
      findBroker: async ({ nodeId }: { nodeId: number }) => ({ nodeId }),
    }) as unknown as { findGroupCoordinator(key: CoordinatorKey): Promise<{ nodeId: number }> };
    expect((await cluster.findGroupCoordinator({ groupId: "g" })).nodeId).toBe(7);
    expect((await cluster.findGroupCoordinator({ groupId: "g" })).nodeId).toBe(7);
    expect(lookups).toBe(1);
  });
});
