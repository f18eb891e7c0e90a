// The 10-5 instrumentation plugin: logs invocation-start and invocation-end
// (status) under its own plugin name. Loaded through provider modules selected
// by DURABLE_EXECUTION_PLUGINS (see confplugin-a.js, confplugin-b.js).
import { RecordingPlugin } from "../lib/records.mjs";

export class InvocationPlugin extends RecordingPlugin {
  async onInvocationStart(info) {
    this.captureArn(info);
    this.log("invocation-start");
  }
  async onInvocationEnd(info) {
    this.log("invocation-end", { status: info.status });
  }
}

// provider builds the versioned factory the SDK's plugin loader expects.
export function provider(pluginName) {
  class NamedInvocationPlugin extends InvocationPlugin {
    constructor() {
      super(pluginName);
    }
  }
  return {
    pluginApiVersion: 1,
    pluginType: NamedInvocationPlugin,
    createPlugin: () => new NamedInvocationPlugin(),
  };
}
