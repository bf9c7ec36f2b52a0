"""WebDev battles: app extraction, the sandboxed live preview, and the execution check.

A person asks for a web app, two anonymous models build it, both apps run side by side in
sandboxed frames, the person tries them and votes. Nothing here imports the web layer or the
arena service; they call in.
"""

from glassarena.webdev.extract import CodeBlock, CodeStyle, ExtractedApp, code_style, extract_app
from glassarena.webdev.prompt import WEBDEV_SYSTEM_PROMPT, webdev_system_prompt
from glassarena.webdev.sandbox import (
    AppDocumentStore,
    MemoryAppStore,
    SandboxPolicy,
    iframe_attributes,
    new_app_token,
    sandbox_app,
)
from glassarena.webdev.summary import RunShare, apps_that_run

__all__ = [
    "WEBDEV_SYSTEM_PROMPT",
    "AppDocumentStore",
    "CodeBlock",
    "CodeStyle",
    "ExtractedApp",
    "MemoryAppStore",
    "RunShare",
    "SandboxPolicy",
    "apps_that_run",
    "code_style",
    "extract_app",
    "iframe_attributes",
    "new_app_token",
    "sandbox_app",
    "webdev_system_prompt",
]
