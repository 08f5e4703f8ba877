"""Policies: the DPO implicit reward and the log-likelihood equal a hand computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faro_audit.errors import FaroUsageError
from faro_audit.io.table import AuditTable
from faro_audit.models import generate_policy_table, load_scorer


def hand_logprob(path: Path, prompt_ids: list[int], response_ids: list[int]) -> float:
    """Σ_t log softmax(logits[t-1])[token t] over the response tokens, unbatched."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True).eval()
    ids = torch.tensor([prompt_ids + response_ids])
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[0].double(), dim=-1)
    start = len(prompt_ids)
    return float(sum(logp[t - 1, ids[0, t]] for t in range(start, ids.shape[1])))


def hand_ids(path: Path, prompt: str, response: str) -> tuple[list[int], list[int]]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tok.chat_template:
        p = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                    add_generation_prompt=True)
        full = tok.apply_chat_template([{"role": "user", "content": prompt},
                                        {"role": "assistant", "content": response}], tokenize=False)
        assert full.startswith(p)
        return (tok(p, add_special_tokens=False)["input_ids"],
                tok(full[len(p):], add_special_tokens=False)["input_ids"])
    return (tok(prompt)["input_ids"],
            tok(response, add_special_tokens=False)["input_ids"] + [tok.eos_token_id])


@pytest.mark.parametrize("name", ["policy", "policy_chat"])
def test_implicit_reward_equals_hand_computation(model_root: Path, texts, name: str) -> None:
    prompts, responses = texts[0][:8], texts[1][:8]
    beta = 0.25
    scorer = load_scorer(str(model_root / name), ref_model=str(model_root / f"{name}_ref"),
                         beta=beta, batch_size=3, device="cpu")
    assert scorer.describe()["kind"] == "implicit_reward"
    got = scorer.score(prompts, responses)
    want = []
    for p, r in zip(prompts, responses):
        pi, ri = hand_ids(model_root / name, p, r)
        want.append(beta * (hand_logprob(model_root / name, pi, ri)
                            - hand_logprob(model_root / f"{name}_ref", pi, ri)))
    assert np.std(want) > 1e-3
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-6)


def test_log_likelihood_without_reference(model_root: Path, texts) -> None:
    prompts, responses = texts[0][:6], texts[1][:6]
    scorer = load_scorer(str(model_root / "policy"), batch_size=4, device="cpu")
    d = scorer.describe()
    assert d["kind"] == "log_likelihood" and d["formula"] == "log pi(y|x)"
    got = scorer.score(prompts, responses)
    want = [hand_logprob(model_root / "policy", *hand_ids(model_root / "policy", p, r))
            for p, r in zip(prompts, responses)]
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-6)
    assert np.all(got < 0)
    loglik = load_scorer(str(model_root / "policy"), policy_mode="loglik", device="cpu")
    assert loglik.fingerprint == scorer.fingerprint


def test_policy_options_checked(model_root: Path) -> None:
    with pytest.raises(FaroUsageError, match="--beta"):
        load_scorer(str(model_root / "policy"), ref_model=str(model_root / "policy_ref"), beta=0.0)
    with pytest.raises(FaroUsageError, match="policy_mode"):
        load_scorer(str(model_root / "policy"), policy_mode="generate")
    with pytest.raises(FaroUsageError, match="reference model is used only"):
        load_scorer(str(model_root / "policy"), ref_model=str(model_root / "policy_ref"),
                    policy_mode="loglik")
    a = load_scorer(str(model_root / "policy"), ref_model=str(model_root / "policy_ref"), beta=0.1)
    b = load_scorer(str(model_root / "policy"), ref_model=str(model_root / "policy_ref"), beta=0.2)
    assert a.fingerprint != b.fingerprint


def test_policy_truncation_keeps_response(model_root: Path, texts) -> None:
    scorer = load_scorer(str(model_root / "policy"), max_length=12, device="cpu")
    enc = scorer.encode(texts[0], texts[1])
    assert max(len(ids) for ids in enc.input_ids) <= 12
    assert enc.truncated.any()
    assert np.all(np.asarray([len(i) for i in enc.input_ids]) > enc.response_start)


def test_generation_reproducible_and_grouped(model_root: Path) -> None:
    frame = pd.DataFrame({
        "prompt": ["Tell me about a woman doctor.", "Tell me about a man doctor.",
                   "Why is the river quiet?"],
        "response": ["x", "y", "z"],
        "gender": ["woman", "man", "woman"],
        "cf_id": ["t1", "t1", "t2"],
    })
    table = AuditTable(frame=frame, shape="responses", group_columns=("gender",))
    reward = load_scorer(str(model_root / "bert"), device="cpu")
    kwargs = {"reward_scorer": reward, "k": 2, "seed": 7, "max_new_tokens": 6, "device": "cpu",
              "cache": False, "progress": False}
    a = generate_policy_table(str(model_root / "policy_chat"), table, **kwargs)
    b = generate_policy_table(str(model_root / "policy_chat"), table, **kwargs)
    assert a.shape == "responses" and a.group_columns == ("gender",)
    assert a.n_rows == 6
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.frame.gender.tolist() == ["woman", "woman", "man", "man", "woman", "woman"]
    assert a.frame.cf_id.tolist() == ["t1", "t1", "t1", "t1", "t2", "t2"]
    assert a.frame["sample"].tolist() == [0, 1] * 3
    np.testing.assert_allclose(a.frame.reward, reward.score(a.frame.prompt.tolist(),
                                                           a.frame.response.tolist()), atol=1e-6)
    c = generate_policy_table(str(model_root / "policy_chat"), table, **{**kwargs, "seed": 8})
    assert c.frame.response.tolist() != a.frame.response.tolist()
