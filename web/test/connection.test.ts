import { describe, expect, it } from "vitest";
import { stateText } from "../src/ui/connection";

describe("the connection indicator", () => {
  it("says whether quotes are live and counts the reconnects", () => {
    expect(stateText({ phase: "closed", reconnects: 0, retryInMs: null })).toBe("quotes idle");
    expect(stateText({ phase: "connecting", reconnects: 0, retryInMs: null })).toBe("connecting");
    expect(stateText({ phase: "open", reconnects: 0, retryInMs: null })).toBe("live");
    expect(stateText({ phase: "waiting", reconnects: 1, retryInMs: 1_200 })).toBe("reconnecting in 2 s · 1 reconnect");
    expect(stateText({ phase: "open", reconnects: 3, retryInMs: null })).toBe("live · 3 reconnects");
  });
});
