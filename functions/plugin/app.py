"""One import plugin. Every plugin function shares this code; the state names the plugin."""

from image_import.adapters.ports import default_ports
from image_import.notifications import batched
from image_import.observability import step_handler
from image_import.settings import get_settings
from image_import.workflow import steps
from image_import.workflow.chain import plugin_state


@batched  # the invocation's lifecycle events go out together when it returns
def handler(event, context):
    name = event["plugin"]
    # finished always: a plugin runs in one call, and is given the call's deadline (data plugins need it)
    run = step_handler(plugin_state(name), finished=lambda job: True)(
        lambda job, deadline: steps.run_plugin(name, job, get_settings(), default_ports(), deadline)
    )
    return run(event["job"], context)
