"""WebDev battles: app extraction, the sandboxed live preview, and the execution check.

A person asks for a web app, two anonymous models build it, both apps run side by side in
sandboxed frames, the person tries them and votes. The web layer wraps a WebDev battle's
event stream with `WebdevPreviews.with_previews` and mounts `sandbox_app` at
`SandboxPolicy.path_prefix`. The server checks every finished answer itself: the arena
service calls `WebdevChecks.answer_finished`, which runs the bounded Chromium pool and stores
the outcome with the battle (`glassarena.storage.app_checks`), shown after the vote.
"""

from glassarena.webdev.checker import (
    AppChecker,
    BrowserLost,
    CheckerBusy,
    CheckerSettings,
    CheckResult,
)
from glassarena.webdev.checks import WebdevChecks, build_checks
from glassarena.webdev.extract import (
    CodeBlock,
    CodeStyle,
    ExtractedApp,
    ExtractedProject,
    code_style,
    extract_app,
    extract_project,
    extract_turns,
)
from glassarena.webdev.previews import (
    InProcessPreviewStore,
    PreviewStore,
    RedisPreviewStore,
    WebdevPreviews,
    build_previews,
)
from glassarena.webdev.prompt import WEBDEV_SYSTEM_PROMPT, webdev_system_prompt
from glassarena.webdev.sandbox import (
    AppDocumentStore,
    MemoryAppStore,
    SandboxPolicy,
    iframe_attributes,
    new_app_token,
    sandbox_app,
    sandbox_policy_from_environment,
)
from glassarena.webdev.summary import RunShare, apps_that_run

__all__ = [
    "WEBDEV_SYSTEM_PROMPT",
    "AppChecker",
    "AppDocumentStore",
    "BrowserLost",
    "CheckResult",
    "CheckerBusy",
    "CheckerSettings",
    "CodeBlock",
    "CodeStyle",
    "ExtractedApp",
    "ExtractedProject",
    "InProcessPreviewStore",
    "MemoryAppStore",
    "PreviewStore",
    "RedisPreviewStore",
    "RunShare",
    "SandboxPolicy",
    "WebdevChecks",
    "WebdevPreviews",
    "apps_that_run",
    "build_checks",
    "build_previews",
    "code_style",
    "extract_app",
    "extract_project",
    "extract_turns",
    "iframe_attributes",
    "new_app_token",
    "sandbox_app",
    "sandbox_policy_from_environment",
    "webdev_system_prompt",
]
