"""Atlassian Document Format: the minimal checks Jira makes that the platform spec cannot express.

`Comment.body` is untyped in Atlassian's spec, so a plain string would pass the spec; Jira answers 400
("Comment body is not valid!"). This validator accepts a `doc` of version 1 made of known node types.
"""

from __future__ import annotations

from typing import Any

#: Block and inline node types that hold `content`.
CONTAINER_NODES = {
    "doc", "paragraph", "heading", "bulletList", "orderedList", "listItem", "blockquote", "codeBlock",
    "panel", "table", "tableRow", "tableHeader", "tableCell", "expand", "nestedExpand",
    "mediaSingle", "mediaGroup", "taskList", "taskItem", "decisionList", "decisionItem",
}
#: Node types that must not hold `content`.
LEAF_NODES = {"text", "hardBreak", "mention", "emoji", "rule", "inlineCard", "date", "status", "media"}
KNOWN_MARKS = {"strong", "em", "code", "strike", "underline", "link", "subsup", "textColor"}


def adf_errors(doc: Any) -> list[str]:
    """Problems with `doc` as an ADF document ([] when valid)."""
    if not isinstance(doc, dict):
        return [f"body must be an ADF document object, got {type(doc).__name__}"]
    errors: list[str] = []
    if doc.get("type") != "doc":
        errors.append("body.type must be 'doc'")
    if doc.get("version") != 1:
        errors.append("body.version must be 1")
    if not isinstance(doc.get("content"), list):
        errors.append("body.content must be an array")
        return errors
    for i, node in enumerate(doc["content"]):
        _node_errors(node, f"body.content[{i}]", errors)
    return errors


def _node_errors(node: Any, where: str, errors: list[str]) -> None:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        errors.append(f"{where} must be a node object with a type")
        return
    kind = node["type"]
    if kind == "doc" or kind not in CONTAINER_NODES | LEAF_NODES:
        errors.append(f"{where}: unknown node type {kind!r}")
        return
    if kind == "text":
        if not isinstance(node.get("text"), str) or not node["text"]:
            errors.append(f"{where}: a text node needs a non-empty text")
        for j, mark in enumerate(node.get("marks") or []):
            if not isinstance(mark, dict) or mark.get("type") not in KNOWN_MARKS:
                errors.append(f"{where}.marks[{j}]: unknown mark")
    elif kind == "mention" and (not isinstance(node.get("attrs"), dict) or not node["attrs"].get("id")):
        errors.append(f"{where}: a mention needs attrs.id")
    if kind in LEAF_NODES:
        if "content" in node:
            errors.append(f"{where}: {kind} cannot have content")
        return
    content = node.get("content", [])
    if not isinstance(content, list):
        errors.append(f"{where}.content must be an array")
        return
    for i, child in enumerate(content):
        _node_errors(child, f"{where}.content[{i}]", errors)


def text_to_adf(text: str) -> dict[str, Any]:
    """Wrap plain text (as JSM's API receives it) into an ADF document, one paragraph per block."""
    paragraphs = []
    for block in text.split("\n\n"):
        content: list[dict[str, Any]] = []
        for k, line in enumerate(block.split("\n")):
            if k:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_wiki(doc: dict[str, Any]) -> str:
    """Render ADF as the wiki-markup string Jira Cloud puts in `comment_created` webhooks (simplified)."""
    blocks = [_inline(node) for node in doc.get("content", [])]
    return "\n\n".join(blocks)


def _inline(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        text = str(node.get("text", ""))
        for mark in node.get("marks") or []:
            if mark.get("type") == "strong":
                text = f"*{text}*"
            elif mark.get("type") == "em":
                text = f"_{text}_"
            elif mark.get("type") == "link":
                text = f"[{text}|{mark.get('attrs', {}).get('href', '')}]"
        return text
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        return f"[~accountid:{node.get('attrs', {}).get('id', '')}]"
    if kind == "listItem":
        return "* " + "".join(_inline(c) for c in node.get("content", []))
    if kind in ("bulletList", "orderedList"):
        return "\n".join(_inline(c) for c in node.get("content", []))
    return "".join(_inline(c) for c in node.get("content", []))


def adf_to_text(doc: dict[str, Any]) -> str:
    """Plain text of an ADF document (what JSM's comment API returns as `body`)."""
    return adf_to_wiki(doc)
