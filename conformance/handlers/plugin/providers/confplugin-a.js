// Plugin provider module "confplugin-a" (CONFPLUGIN-A), for DURABLE_EXECUTION_PLUGINS.
// The function's NODE_PATH (plugin/providers, relative to the code directory)
// makes the bare specifier resolvable, as a Lambda layer's nodejs/node_modules would.
import { provider } from "./invocation-plugin.mjs";

export const durableExecutionPluginProvider = provider("CONFPLUGIN-A");
