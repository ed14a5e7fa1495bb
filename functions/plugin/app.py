"""One import plugin. Every plugin function shares this code; the state's payload names the plugin.

A plugin is a step like any other (image_import.steps.chain PluginStep): it runs as a role session scoped to
its import, within the call's deadline."""

from image_import.notifications import batched
from image_import.steps.chain import plugin_state, run_step


@batched  # the invocation's lifecycle events go out together when it returns
def handler(event, context):
    return run_step(plugin_state(event["plugin"]), event["job"], context)
