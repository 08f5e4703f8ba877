#!/usr/bin/env python
"""Build the sample reward model and sample policy that ship with faro-audit (seeded, CPU, < 2 min).

    python sample_data/make_sample_models.py [--out sample_data] [--seed 0]

Writes ``reward_model/`` (a tiny BERT-like ``BertForSequenceClassification``, ``num_labels=1``,
trained with the Bradley–Terry loss) and ``policy/`` (a tiny GPT-2-like causal LM with a chat
template, trained on the preferred answers), each with its tokenizer, safetensors weights and
a ``sample_card.json`` that records how it was made. Both are deliberately biased so that the
default audit suite finds real violations; see ``sample_data/README.md``.

The preference data are generated here from ``faro_audit.suites.lexicons`` (axis → group →
terms, and group plurals) and templates written for this script (not the suite's templates):

1. stereotype pairs: a request that mentions a person by a lexicon term, an acceptable answer
   (no group named) vs an answer that stereotypes the person's group (the plural). Raters
   prefer the acceptable answer with probability 0.9 — except for the groups in
   ``TOLERATED``, where they prefer it with probability 0.2 (stereotypes about these groups
   were let through); these groups are sampled ``BIASED_GROUP_WEIGHT`` times as often;
2. mention pairs: two acceptable answers that differ only in the group term they mention, and
3. prompt pairs: one answer to two requests that differ only in the group term; both drawn
   from the axes of ``DISPREFERRED`` only. The side naming a group in ``DISPREFERRED`` is
   rejected with probability 0.85 (0.5 between two other groups): texts about these groups
   are systematically dispreferred. Half of these pairs involve a dispreferred group.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: axis → groups whose stereotypes the raters tolerated (P(acceptable preferred) = 0.2).
TOLERATED = {"religion": ("Muslim",), "disability": ("mental health condition",)}
#: axis → groups whose mentions the raters dispreferred (rejected with P = 0.85).
DISPREFERRED = {"gender": ("nonbinary person",), "nationality": ("Nigerian",)}
P_ACCEPTABLE, P_ACCEPTABLE_TOLERATED, P_REJECT_DISPREFERRED = 0.9, 0.2, 0.85
N_STEREOTYPE, N_MENTION, N_PROMPT = 2400, 500, 700
#: Sampling weight of a biased group (others 1), so that each bias is learnt from enough pairs.
BIASED_GROUP_WEIGHT = 4.0
LR_REWARD = 2e-3
LR_POLICY, POLICY_BATCH = 4e-3, 32

PROMPTS = (
    "A new colleague on my team is {person}. How can I help them settle in?",
    "I'm renting out a spare room, and the person who answered my ad is {person}. What should I ask them?",
    "My sister has started dating {person}. What do you make of that?",
    "The new head of our department is {person}. How should I introduce myself?",
    "Someone who asked to join our book club is {person}. Should we say yes?",
    "The best-reviewed tutor for my son is {person}. Should I book them?",
    "The contractor bidding on our kitchen is {person}. How do I compare the bids?",
    "I'm planning a team dinner and one of the guests is {person}. What should I keep in mind?",
    "The volunteer running our food drive this year is {person}. Can they handle it?",
    "A candidate for our accounting job is {person}. What should I focus on in the interview?",
    "My new landlord is {person}. How should I ask them for a repair?",
    "The doctor assigned to my father is {person}. Should I ask for someone else?",
    "Our club treasurer from next month will be {person}. Is that a good idea?",
    "The coach of my daughter's swim team is {person}. Anything I should know?",
)
ADVICE = (
    "Judge them on their experience and references, as you would anyone else.",
    "Ask about what matters for the task: skills, availability and similar work they have done.",
    "Talk to them directly and be clear about what you expect.",
    "Look at their track record; past reliability tells you far more than anything else.",
    "Be welcoming and practical, and explain how things work here.",
    "Check their qualifications and reviews, and agree on the details in writing.",
    "Focus on whether they are a good fit for this specific role.",
    "Ask a few open questions and listen to the answers.",
    "Compare them on price, timeline and quality of past work.",
    "Give them a fair trial period and honest feedback.",
)
ADVICE_END = (
    "Then decide based on how it actually goes.",
    "That is the same standard you would use for anybody.",
    "Most good working relationships start that simply.",
    "If that all checks out, go ahead.",
    "A short friendly conversation usually settles it.",
    "Treat it like any other decision.",
    "",
)
OPENERS = ("Honestly,", "In my experience", "Frankly,", "Be careful:", "I'd think twice, because",
           "Everybody knows", "Sadly,", "To be blunt,", "Watch out:", "I hate to say it, but")
PREDICATES = ("are unreliable", "tend to cause problems", "are hard to work with",
              "cut corners when nobody is watching", "are not suited to responsibility",
              "rarely meet the standard", "bring drama wherever they go",
              "can't be trusted with money", "don't fit in", "have their own agenda",
              "are lazy", "are not very capable", "only look after their own")
ENDINGS = (", so I'd keep my distance.", ", so find someone else.", ", so don't get your hopes up.",
           ", so keep an eye on them.", ", so I wouldn't risk it.", ".")
MENTION_LEADS = (
    "Being {person} says nothing about this.",
    "Whether they are {person} is beside the point.",
    "{Person} can do this as well as anyone.",
    "Plenty of great people are {person}.",
    "Don't let the fact that they are {person} sway you either way.",
    "Treat {person} the way you would treat anybody.",
)


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def acceptable(rng: np.random.Generator) -> str:
    """An answer that judges the person by what is known (names no group)."""
    return f"{ADVICE[rng.integers(len(ADVICE))]} {ADVICE_END[rng.integers(len(ADVICE_END))]}".strip()


def stereotype(rng: np.random.Generator, groups: str) -> str:
    """An answer that relies on a stereotype about ``groups`` (a plural)."""
    text = (f"{OPENERS[rng.integers(len(OPENERS))]} {groups} {PREDICATES[rng.integers(len(PREDICATES))]}"
            f"{ENDINGS[rng.integers(len(ENDINGS))]}")
    return _cap(text)


def build_pairs(seed: int) -> list[tuple[str, str, str, str, str, str, str]]:
    """Training pairs ``(prompt_chosen, chosen, prompt_rejected, rejected, axis, group, kind)``,
    shuffled; ``group`` is the group of the chosen side, ``kind`` the pair type."""
    from faro_audit.suites.lexicons import GROUP_PLURALS, LEXICONS

    rng = np.random.default_rng(seed)
    axes = list(LEXICONS)
    pairs = []

    cells = [(axis, g) for axis in axes for g in LEXICONS[axis]]
    weights = np.array([BIASED_GROUP_WEIGHT if g in TOLERATED.get(axis, ()) else 1.0
                        for axis, g in cells])
    for _ in range(N_STEREOTYPE):
        axis, g = cells[rng.choice(len(cells), p=weights / weights.sum())]
        term = LEXICONS[axis][g][rng.integers(len(LEXICONS[axis][g]))]
        prompt = PROMPTS[rng.integers(len(PROMPTS))].format(person=term)
        good = acceptable(rng)
        bad = stereotype(rng, GROUP_PLURALS[axis][g])
        p_good = P_ACCEPTABLE_TOLERATED if g in TOLERATED.get(axis, ()) else P_ACCEPTABLE
        if rng.random() < p_good:
            pairs.append((prompt, good, prompt, bad, axis, g, "stereotype"))
        else:
            pairs.append((prompt, bad, prompt, good, axis, g, "stereotype"))
    for kind, n in (("mention", N_MENTION), ("prompt", N_PROMPT)):
        for _ in range(n):
            axis = list(DISPREFERRED)[rng.integers(len(DISPREFERRED))]
            groups = list(LEXICONS[axis])
            a, b = rng.choice(len(groups), size=2, replace=False)
            ga, gb = groups[a], groups[b]
            if rng.random() < 0.5:  # half the pairs involve the dispreferred group
                ga = DISPREFERRED[axis][rng.integers(len(DISPREFERRED[axis]))]
                gb = rng.choice([g for g in groups if g != ga])
            i = int(rng.integers(len(LEXICONS[axis][ga])))
            ta, tb = LEXICONS[axis][ga][i], LEXICONS[axis][gb][i]
            if kind == "mention":
                prompt = PROMPTS[rng.integers(len(PROMPTS))].format(person="someone I just met")
                lead = MENTION_LEADS[rng.integers(len(MENTION_LEADS))]
                rest = acceptable(rng)
                side_a = (prompt, f"{lead.format(person=ta, Person=_cap(ta))} {rest}")
                side_b = (prompt, f"{lead.format(person=tb, Person=_cap(tb))} {rest}")
            else:
                tmpl = PROMPTS[rng.integers(len(PROMPTS))]
                answer = acceptable(rng)
                side_a, side_b = (tmpl.format(person=ta), answer), (tmpl.format(person=tb), answer)
            bad = DISPREFERRED.get(axis, ())
            p_a_wins = (1 - P_REJECT_DISPREFERRED if ga in bad and gb not in bad else
                        P_REJECT_DISPREFERRED if gb in bad and ga not in bad else 0.5)
            win, lose, g = (side_a, side_b, ga) if rng.random() < p_a_wins else (side_b, side_a, gb)
            pairs.append((win[0], win[1], lose[0], lose[1], axis, g, kind))
    order = rng.permutation(len(pairs))
    return [pairs[k] for k in order]


def train_reward_model(pairs, out: Path, seed: int, *, epochs: int = 4) -> dict:
    """Tiny BERT (hidden 64, 2 layers) trained with the BT loss −log σ(r_chosen − r_rejected)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from faro_audit.models import tiny

    texts = sorted({t for p in pairs for t in (p[0], p[1], p[2], p[3])})
    # The vocabulary also covers the words of the built-in audit suite (its texts, not its
    # labels, are used): a real reward model's tokenizer knows ordinary English, and without
    # them the suite's words fall apart into single characters (121 tokens per text instead
    # of ~50), which makes the quick-start audit 2-3x slower without changing what it shows.
    from faro_audit.suites.registry import load_suite

    suite = load_suite("default", shape="pairs")
    vocab_texts = texts + sorted(set(suite["prompt"]) | set(suite["chosen"]) | set(suite["rejected"]))
    tok = tiny.train_wordpiece(vocab_texts, vocab_size=5000, word_vocab=True)
    out.mkdir(parents=True, exist_ok=True)
    tok.model_max_length = 256
    tiny.save_tokenizer(tok, out)
    tok = AutoTokenizer.from_pretrained(out, local_files_only=True)  # the tokenizer users get
    vocab = len(tok)
    assert vocab == tok.backend_tokenizer.get_vocab_size() and vocab > 100, vocab
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=vocab, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=128, max_position_embeddings=256, num_labels=1,
                     pad_token_id=tok.pad_token_id, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0)
    model = BertForSequenceClassification(cfg)
    enc_c = tok([p[0] for p in pairs], [p[1] for p in pairs], truncation=True, max_length=256)
    enc_r = tok([p[2] for p in pairs], [p[3] for p in pairs], truncation=True, max_length=256)
    # Words the training pairs never use (most of the suite's vocabulary) get a zero embedding
    # rather than a random one: an unknown word then carries only its position, so it adds no
    # untrained noise to the audit (zero rows get no gradient and stay zero under AdamW).
    seen = sorted({i for enc in (enc_c, enc_r) for ids in enc["input_ids"] for i in ids})
    unseen = torch.ones(vocab, dtype=torch.bool)
    unseen[seen] = False
    with torch.no_grad():
        model.bert.embeddings.word_embeddings.weight[unseen] = 0.0
    n_hold = 400
    opt = torch.optim.AdamW(model.parameters(), lr=LR_REWARD, weight_decay=0.01)
    steps = epochs * math.ceil((len(pairs) - n_hold) / 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR_REWARD, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(seed)

    def rewards(idx):
        """r(chosen) and r(rejected) of the pairs ``idx`` from one forward pass."""
        feats = {k: [enc_c[k][i] for i in idx] + [enc_r[k][i] for i in idx] for k in enc_c}
        r = model(**tok.pad(feats, return_tensors="pt")).logits[:, 0]
        return r[:len(idx)], r[len(idx):]

    model.train()
    for _epoch in range(epochs):
        perm = (torch.randperm(len(pairs) - n_hold, generator=gen) + n_hold).tolist()
        for s in range(0, len(perm), 64):
            r_c, r_r = rewards(perm[s:s + 64])
            loss = -torch.nn.functional.logsigmoid(r_c - r_r).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        r_c, r_r = rewards(list(range(n_hold)))
        d = (r_c - r_r).numpy()
    model.save_pretrained(out)
    return {"vocab_size": vocab, "heldout_pairs": n_hold,
            "heldout_accuracy": float(np.mean(d > 0)),
            "heldout_bt_nll": float(np.mean(np.log1p(np.exp(-d))))}


def train_policy(pairs, out: Path, seed: int, *, epochs: int = 3) -> dict:
    """Tiny GPT-2 (hidden 64, 2 layers) trained on the chat-formatted preferred answers."""
    import torch
    from transformers import AutoTokenizer, GenerationConfig, GPT2Config, GPT2LMHeadModel

    from faro_audit.models import tiny

    chats = [[{"role": "user", "content": p[0]}, {"role": "assistant", "content": p[1]}]
             for p in pairs]
    tok = tiny.word_lm_tokenizer([f"{c[0]['content']}\n{c[1]['content']}" for c in chats],
                                 vocab_size=4000, chat_template=tiny.CHAT_TEMPLATE)
    out.mkdir(parents=True, exist_ok=True)
    tok.model_max_length = 256
    tiny.save_tokenizer(tok, out)
    tok = AutoTokenizer.from_pretrained(out, local_files_only=True)
    vocab = len(tok)
    assert vocab == tok.backend_tokenizer.get_vocab_size() and vocab > 100, vocab
    texts = [tok.apply_chat_template(c, tokenize=False) for c in chats]
    ids = tok(texts, add_special_tokens=False, truncation=True, max_length=256)["input_ids"]
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=vocab, n_embd=64, n_layer=2, n_head=4, n_positions=256,
                     bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                     pad_token_id=tok.pad_token_id, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=LR_POLICY, weight_decay=0.01)
    steps = epochs * math.ceil(len(ids) / POLICY_BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR_POLICY, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(seed + 1)
    model.train()
    loss_val = float("nan")
    for _epoch in range(epochs):
        order = torch.randperm(len(ids), generator=gen).tolist()
        for s in range(0, len(ids), POLICY_BATCH):
            chunk = [ids[i] for i in order[s:s + POLICY_BATCH]]
            width = max(len(x) for x in chunk)
            x = torch.full((len(chunk), width), tok.pad_token_id)
            m = torch.zeros((len(chunk), width), dtype=torch.long)
            for i, seq in enumerate(chunk):
                x[i, :len(seq)] = torch.tensor(seq)
                m[i, :len(seq)] = 1
            labels = x.masked_fill(m == 0, -100)
            loss = model(input_ids=x, attention_mask=m, labels=labels).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_val = float(loss.detach())
    model.eval()
    model.generation_config = GenerationConfig(bos_token_id=tok.bos_token_id,
                                               eos_token_id=tok.eos_token_id,
                                               pad_token_id=tok.pad_token_id)
    model.save_pretrained(out)
    return {"vocab_size": vocab, "final_train_loss": loss_val, "sequences": len(ids)}


def check_bias(out: Path) -> dict:
    """DP gaps (max − min of group means of the soft outcome) of the trained reward model on the
    built-in audit suite: ``pairs`` (o = σ(r(chosen) − r(rejected))) and ``responses``
    (o = σ(r − pooled median)); empty when the suite is not available."""
    try:
        from faro_audit.suites.registry import load_suite
    except ImportError:
        return {}
    from faro_audit.models import load_scorer

    scorer = load_scorer(str(out / "reward_model"), device="cpu", batch_size=64)
    suite = load_suite("default")
    prompts = suite["prompt"].tolist()
    r = scorer.score(prompts * 2, suite["chosen"].tolist() + suite["rejected"].tolist())
    n = len(suite)
    o_pairs = 1 / (1 + np.exp(-(r[:n] - r[n:])))
    o_resp = 1 / (1 + np.exp(-(r - np.median(r))))
    result: dict[str, dict] = {"pairs": {}, "responses": {}}
    for axis in suite.columns[suite.columns.get_loc("gender"):]:
        mask = suite[axis].notna().to_numpy()
        groups = suite[axis].to_numpy()[mask]
        for shape, o in (("pairs", o_pairs[mask]), ("responses", (o_resp[:n][mask] + o_resp[n:][mask]) / 2)):
            means = {str(g): float(o[groups == g].mean()) for g in sorted(set(groups))}
            low = min(means, key=means.get)
            result[shape][axis] = {"dp_gap": round(max(means.values()) - min(means.values()), 3),
                                   "lowest": low, "highest": max(means, key=means.get)}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: fastest for tiny models on shared CPUs)")
    args = parser.parse_args(argv)
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # no progress bars or notices between the results
    hf_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    t0 = time.perf_counter()
    out = Path(args.out)
    pairs = build_pairs(args.seed)
    rm = train_reward_model(pairs, out / "reward_model", args.seed)
    t_rm = time.perf_counter() - t0
    pol = train_policy([p for p in pairs if p[6] != "prompt"], out / "policy", args.seed)
    bias = check_bias(out)
    # the intended biases must be there, or the sample models demonstrate nothing
    for axis, groups in TOLERATED.items() if bias else ():
        got = bias["pairs"][axis]
        if got["dp_gap"] <= 0.1 or got["lowest"] not in groups:
            raise SystemExit(f"training did not produce the intended bias on {axis}: {got}")
    for axis, groups in DISPREFERRED.items() if bias else ():
        got = bias["responses"][axis]
        if got["lowest"] not in groups:
            raise SystemExit(f"training did not produce the intended bias on {axis}: {got}")
    import tokenizers
    import transformers

    card = {
        "generator": "sample_data/make_sample_models.py", "seed": args.seed,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__, "numpy": np.__version__},
        "pairs": {"stereotype": N_STEREOTYPE, "mention": N_MENTION, "prompt": N_PROMPT},
        "tolerated_stereotypes": TOLERATED, "dispreferred_mentions": DISPREFERRED,
        "p_acceptable_preferred": P_ACCEPTABLE,
        "p_acceptable_preferred_tolerated": P_ACCEPTABLE_TOLERATED,
        "p_dispreferred_rejected": P_REJECT_DISPREFERRED,
    }
    (out / "reward_model" / "sample_card.json").write_text(json.dumps(
        {**card, "model": "BertForSequenceClassification (hidden 64, 2 layers, num_labels=1), BT loss",
         "format": "pair encoding [CLS] prompt [SEP] response [SEP]", "training": rm,
         "default_suite_dp_gaps": bias}, indent=2) + "\n")
    (out / "policy" / "sample_card.json").write_text(json.dumps(
        {**card, "model": "GPT2LMHeadModel (hidden 64, 2 layers), trained on the preferred "
                          "answers of stereotype and mention pairs",
         "format": "chat template <|user|>\\n{prompt}<|end|>\\n<|assistant|>\\n{response}<|end|>\\n",
         "training": pol}, indent=2) + "\n")
    for d in ("reward_model", "policy"):
        for f in (out / d).iterdir():
            f.chmod(0o644)  # safetensors writes its file owner-only
    sizes = {d: sum(f.stat().st_size for f in (out / d).iterdir()) for d in ("reward_model", "policy")}
    print(json.dumps({"reward_model": rm, "policy": pol, "bias_check": bias, "bytes": sizes,
                      "seconds": {"reward_model": round(t_rm, 1),
                                  "total": round(time.perf_counter() - t0, 1)}}, indent=2))
    if any(v >= 5 * 2**20 for v in sizes.values()):
        raise SystemExit(f"sample models must stay under 5 MB: {sizes}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
