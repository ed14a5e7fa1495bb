"""One import plugin. Every plugin function shares this code; the state names the plugin."""

from image_import.adapters.ports import plugin_ports
from image_import.notifications import batched
from image_import.observability import step_handler
from image_import.plugins.registry import plugin_for
from image_import.settings import get_settings
from image_import.steps import work as steps
from image_import.steps.chain import plugin_state


@batched  # the invocation's lifecycle events go out together when it returns
def handler(event, context):
    name, settings = event["plugin"], get_settings()
    writes_data = plugin_for(name, settings).function.writes_data  # which scoped role: may it write data
    # finished always: a plugin runs in one call, and is given the call's deadline (data plugins need it);
    # it works as a role session scoped to its import, never as the function's role
    run = step_handler(plugin_state(name), finished=lambda job: True)(
        lambda job, deadline: steps.run_plugin(name, job, settings, plugin_ports(job, name, writes_data), deadline)
    )
    return run(event["job"], context)
