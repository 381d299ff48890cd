"""The fakes' `responder`: answers chosen from the request itself, after the queue and before the default."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from fakes.openai import FakeOpenAI
from fakes.server import Error, RecordedRequest, Reply, Scripted


def post(client: httpx2.Client, fake: FakeOpenAI, content: str) -> httpx2.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": content}]}
    return client.post(
        fake.base_url + "/chat/completions",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", "connection": "close"},
    )


def text_of(response: httpx2.Response) -> Any:
    return response.json()["choices"][0]["message"]["content"]


def echo(request: RecordedRequest) -> Scripted | None:
    content = request.body["messages"][-1]["content"]
    if content == "fail":
        return Error(503)
    if content == "boom":
        raise RuntimeError("a responder bug")
    return None if content == "default" else Reply(f"echo: {content}")


def test_responder_order_reset_and_bugs() -> None:
    with httpx2.Client(verify=False) as client:  # plain HTTP to 127.0.0.1 only
        with FakeOpenAI(require_key=False) as fake:
            assert text_of(post(client, fake, "a")) == "ok"  # no responder: the default
            fake.responder = echo
            assert text_of(post(client, fake, "a")) == "echo: a"
            assert text_of(post(client, fake, "default")) == "ok"  # None falls through to the default
            assert post(client, fake, "fail").status_code == 503
            fake.reply("queued first")
            assert text_of(post(client, fake, "b")) == "queued first"  # the queue comes before the responder
            fake.set_faults(1.0, Error(500))
            assert post(client, fake, "c").status_code == 500  # and fault injection before both
            fake.set_faults(0.0)
            fake.reset()
            assert fake.responder is None and text_of(post(client, fake, "d")) == "ok"

        with FakeOpenAI(require_key=False, responder=echo) as fake:
            assert text_of(post(client, fake, "e")) == "echo: e"
            fake.reset()
            assert fake.responder is echo  # reset restores the constructor's responder
            assert post(client, fake, "boom").status_code == 500
            assert any("a responder bug" in e for e in fake.internal_errors)
            fake._internal_errors.clear()  # keep __exit__ from raising: this bug was on purpose
