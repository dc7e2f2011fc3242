import { describe, expect, it } from "vitest";
import { groupsNotDeleted } from "./kafka-tools.js";

describe("groupsNotDeleted", () => {
  it("lists the groups the tool could not delete, leaving out those already gone", () => {
    const output = [
      "",
      "Error: Deletion of some consumer groups failed:",
      "* Group 'bench-join-group-1a2b3c4d-5' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.",
      "* Group 'bench-probe-1a2b3c4d-6' could not be deleted due to: org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.",
      "",
      "These consumer groups were deleted successfully: 'bench-copy-group-1a2b3c4d-9'",
    ].join("\n");
    expect(groupsNotDeleted(output)).toEqual(["bench-join-group-1a2b3c4d-5"]);
  });

  it("finds nothing when every group was deleted", () => {
    expect(
      groupsNotDeleted("Deletion of requested consumer groups ('bench-probe-1a2b3c4d-6') was successful.\n"),
    ).toEqual([]);
  });
});
