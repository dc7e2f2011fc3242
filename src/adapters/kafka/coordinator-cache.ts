// Remembering which broker coordinates a group or a transactional id. kafkajs asks the cluster with a
// FindCoordinator request before every coordinator call: four extra round trips in each of the
// join's transactions (before adding partitions, adding offsets, committing offsets and ending the
// transaction), about half of its requests. The answer only changes when the coordinator moves or
// fails, which the coordinator's next request reports, so it is kept until a request to it fails
// for that reason.

/** A broker as kafkajs hands it out: its node id and request methods. */
export type CoordinatorBroker = { nodeId: number };

export type CoordinatorKey = { groupId: string; coordinatorType?: number };

type Lookups<Broker extends CoordinatorBroker> = {
  /** Asks the cluster for the coordinator (FindCoordinator). */
  find(key: CoordinatorKey): Promise<Broker>;
  /** The known broker of a node id (no request when its connection is up). */
  broker(nodeId: number): Promise<Broker>;
};

const keyOf = ({ groupId, coordinatorType = 0 }: CoordinatorKey) => `${coordinatorType}\u0000${groupId}`;

/** Kafka's answers (kafkajs's names) that a broker is not, or not yet, the coordinator of a key. */
const notCoordinator = new Set([
  "NOT_COORDINATOR_FOR_GROUP",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "GROUP_LOAD_IN_PROGRESS",
]);

/**
 * Whether a failed request says nothing about who coordinates: an answer of the coordinator itself,
 * such as CONCURRENT_TRANSACTIONS while a commit's markers are still being written or
 * REBALANCE_IN_PROGRESS. Anything else (a coordinator answer above, a broken or refused connection,
 * a timeout) makes the next lookup ask the cluster.
 */
const stillCoordinator = (error: unknown): boolean => {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === "string" && type !== "UNKNOWN" && !notCoordinator.has(type);
};

/** Wraps a broker so that a request failing for a reason that may mean another coordinator forgets it. */
function forgettingOnFailure<Broker extends CoordinatorBroker>(broker: Broker, forget: () => void): Broker {
  return new Proxy(broker, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          if (!stillCoordinator(error)) forget();
          throw error;
        }
        if (result instanceof Promise) {
          return result.catch((error: unknown) => {
            if (!stillCoordinator(error)) forget();
            throw error;
          });
        }
        return result;
      };
    },
  });
}

/**
 * A coordinator lookup that asks the cluster only for a key not seen yet, or whose coordinator
 * failed a request since it was found.
 */
export function createCoordinatorCache<Broker extends CoordinatorBroker>(lookups: Lookups<Broker>) {
  const nodes = new Map<string, number>();
  return async (key: CoordinatorKey): Promise<Broker> => {
    const id = keyOf(key);
    const forget = () => {
      nodes.delete(id);
    };
    const known = nodes.get(id);
    if (known !== undefined) {
      const broker = await lookups.broker(known).catch(() => undefined);
      if (broker !== undefined) return forgettingOnFailure(broker, forget);
      forget();
    }
    const broker = await lookups.find(key);
    nodes.set(id, broker.nodeId);
    return forgettingOnFailure(broker, forget);
  };
}
