"""Customer-service threads and feedback of one block of customers.

A thread starts with an inbound customer message (after an order, or a prospect's enquiry); an agent
answers after a first-response delay that depends on the channel and on whether the message came
inside the shop's business hours (outside them the answer waits for the next opening); a share of
threads is served slowly (a backlog of 1-4 days); follow-up rounds alternate customer and agent;
the agent's last message resolves the thread. Messages after the end of the as-of day do not
exist yet, so recent threads are still open. CSAT (1-5) after a resolved thread falls with the
first-response time and the number of rounds; NPS (0-10) falls after slow service and for lapsing
customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clientlens.datasets.archetypes import GeneratorSettings
from clientlens.datasets.localtime import local_to_utc, next_business_time
from clientlens.datasets.texts import AGENTS, comment_text, message_text, subject_text

THREAD_CHANNELS = {"email": 0.40, "chat": 0.25, "phone": 0.20, "social": 0.10, "in_store": 0.05}
TOPICS_BUYER = {"delivery": 0.35, "return": 0.15, "invoice": 0.15, "product": 0.20, "complaint": 0.15}
#: relative frequency of customers' first messages by local hour (0-23)
_WRITING_HOURS = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 4, 6, 7, 7, 6, 6, 6, 6, 6, 5, 5, 5, 5, 4, 3, 2], float)


@dataclass(frozen=True)
class Service:
    interactions: pd.DataFrame
    feedback: pd.DataFrame


def _hours(x: np.ndarray) -> np.ndarray:
    return (np.asarray(x, dtype=float) * 3600).astype(np.int64).astype("timedelta64[s]").astype("timedelta64[ns]")


def _reply_time(rng: np.random.Generator, at: np.ndarray, channel: np.ndarray, slow: np.ndarray,
                cfg: GeneratorSettings) -> np.ndarray:
    """When the agent answers a message received at ``at`` (UTC)."""
    inside, opening = next_business_time(at, cfg.shop_timezone, cfg.business_hours[0], cfg.business_hours[1],
                                         cfg.business_days)
    k = len(at)
    live = np.isin(channel, ("phone", "in_store"))
    chat_lo, chat_hi = cfg.chat_reply_minutes
    written = rng.lognormal(np.log(cfg.written_reply_median_hours), 0.8, k)
    in_hours = np.where(live, rng.uniform(0, cfg.live_reply_minutes / 60, k),
                        np.where(channel == "chat", rng.uniform(chat_lo / 60, chat_hi / 60, k), written))
    after_open = np.where(channel == "chat", rng.uniform(5 / 60, 1.0, k), rng.uniform(0.25, 2.5, k))
    delay = np.maximum(np.where(inside, in_hours, after_open), 1 / 120)  # at least 30 seconds
    backlog = np.where(slow, rng.uniform(*cfg.backlog_hours, k), 0.0)
    return np.where(inside, at, opening) + _hours(delay + backlog)


def make_service(rng: np.random.Generator, plan: pd.DataFrame, customers: pd.DataFrame, orders: pd.DataFrame,
                 cfg: GeneratorSettings, start: np.datetime64, end: np.datetime64,
                 customer_numbers: np.ndarray) -> Service:
    """Interactions (threads of messages) and feedback for one block."""
    n = len(plan)
    ids = plan["customer_id"].to_numpy()
    pos_of = {cid: i for i, cid in enumerate(ids)}
    o_cust = np.array([pos_of[c] for c in orders["customer_id"].to_numpy()], dtype=np.int64)
    o_when = orders["order_date"].to_numpy(dtype="datetime64[ns]")
    buyer = plan["profile"].to_numpy() != "prospect"
    contact = rng.random(n) < cfg.contact_share
    n_threads = np.where(contact, 1 + rng.poisson(cfg.extra_threads_mean, n), 0)
    returned = orders["status"].to_numpy() == "returned"
    t_cust = np.repeat(np.arange(n), n_threads)
    n_orders = np.bincount(o_cust, minlength=n)
    first_order = np.concatenate([[0], np.cumsum(n_orders)[:-1]])
    # anchor: a random order of the customer (+1-10 days), or any time for a prospect
    pick = first_order[t_cust] + np.floor(rng.random(len(t_cust)) * np.maximum(n_orders[t_cust], 1)).astype(np.int64)
    span_ns = (end - start).astype("timedelta64[ns]").astype(np.int64)
    anytime = start + (rng.random(len(t_cust)) * span_ns).astype("timedelta64[ns]")
    has_orders = buyer[t_cust] & (n_orders[t_cust] > 0)
    anchor = np.where(has_orders, o_when[np.minimum(pick, max(len(o_when) - 1, 0))] if len(o_when) else anytime, anytime)
    topic = np.array(list(TOPICS_BUYER), dtype=object)[rng.choice(len(TOPICS_BUYER), len(t_cust), p=list(TOPICS_BUYER.values()))]
    topic = np.where(has_orders, topic, "product")
    # every returned order may bring a return thread
    r_idx = np.flatnonzero(returned & (rng.random(len(returned)) < 0.6))
    t_cust = np.concatenate([t_cust, o_cust[r_idx]])
    anchor = np.concatenate([anchor, o_when[r_idx]])
    topic = np.concatenate([topic, np.full(len(r_idx), "return", dtype=object)])
    T = len(t_cust)
    # customers write 1-10 days after the anchor, mostly by day in their own time zone
    day = (anchor + _hours(rng.uniform(12, 240, T))).astype("datetime64[D]").astype("datetime64[ns]")
    hour = rng.choice(24, T, p=_WRITING_HOURS / _WRITING_HOURS.sum()) + rng.random(T)
    tz = customers["timezone"].to_numpy(dtype=object)[t_cust]
    t0 = local_to_utc(day + _hours(hour), tz)
    keep = t0 < end
    t_cust, t0, topic = t_cust[keep], t0[keep], topic[keep]
    order = np.lexsort((t0, t_cust))
    t_cust, t0, topic = t_cust[order], t0[order], topic[order]
    T = len(t_cust)
    t_no = np.arange(T) - np.concatenate([[0], np.cumsum(np.bincount(t_cust, minlength=n))[:-1]])[t_cust]
    chan_p = np.array(list(THREAD_CHANNELS.values()))
    channel = np.array(list(THREAD_CHANNELS), dtype=object)[rng.choice(len(chan_p), T, p=chan_p)]
    intl = plan["international"].to_numpy()[t_cust]
    channel = np.where(intl & (channel == "in_store"), "email", channel)
    slow = rng.random(T) < cfg.slow_service_share
    rounds = 1 + rng.poisson(cfg.followup_rounds_mean, T) + slow.astype(np.int64)
    language = customers["language"].to_numpy()[t_cust]
    agent = _assign_agents(rng, language)

    # messages, round by round: inbound then outbound
    rows_thread, rows_time, rows_dir, rows_kind = [], [], [], []
    at = t0.copy()
    first_reply = np.full(T, np.datetime64("NaT"), dtype="datetime64[ns]")
    last_time = t0.copy()
    resolved = np.zeros(T, dtype=bool)
    active = np.ones(T, dtype=bool)
    for rnd in range(int(rounds.max()) if T else 0):
        live = active & (rounds > rnd) & (at < end)
        idx = np.flatnonzero(live)
        rows_thread.append(idx)
        rows_time.append(at[idx])
        rows_dir.append(np.full(len(idx), "inbound", dtype=object))
        rows_kind.append(np.where(rnd == 0, "open", "followup"))
        reply = _reply_time(rng, at[idx], channel[idx], slow[idx] & (rnd == 0), cfg)
        ok = reply < end
        ridx = idx[ok]
        rows_thread.append(ridx)
        rows_time.append(reply[ok])
        rows_dir.append(np.full(len(ridx), "outbound", dtype=object))
        final = rounds[ridx] == rnd + 1
        rows_kind.append(np.where(final, "resolve", "reply"))
        if rnd == 0:
            first_reply[ridx] = reply[ok]
        resolved[ridx[final]] = True
        last_time[ridx] = reply[ok]
        active = np.zeros(T, dtype=bool)
        active[ridx] = True
        at = at.copy()
        at[ridx] = reply[ok] + _hours(rng.lognormal(np.log(cfg.followup_median_hours), 1.0, len(ridx)))
    thread = np.concatenate(rows_thread) if rows_thread else np.zeros(0, dtype=np.int64)
    when = np.concatenate(rows_time) if rows_time else np.zeros(0, dtype="datetime64[ns]")
    direction = np.concatenate(rows_dir) if rows_dir else np.zeros(0, dtype=object)
    kind = np.concatenate([np.broadcast_to(k, len(t)) for k, t in zip(rows_kind, rows_thread, strict=True)]) if rows_thread else np.zeros(0, dtype=object)
    order = np.lexsort((when, thread))
    thread, when, direction, kind = thread[order], when[order], direction[order], kind[order]
    msg_no = np.arange(len(thread)) - np.concatenate([[0], np.cumsum(np.bincount(thread, minlength=T))[:-1]])[thread]
    nums = customer_numbers[t_cust]
    thread_ids = np.array([f"T{nums[t]:07d}-{t_no[t]:02d}" for t in range(T)], dtype=object)
    inter_ids = np.array([f"{thread_ids[t]}-{j:02d}".replace("T", "M", 1) for t, j in zip(thread, msg_no, strict=True)], dtype=object)
    subjects = [subject_text(str(topic[t]), str(language[t])) for t in range(T)]
    interactions = pd.DataFrame({
        "interaction_id": inter_ids,
        "customer_id": ids[t_cust[thread]],
        "channel": channel[thread],
        "direction": direction,
        "occurred_at": when,
        "thread_id": thread_ids[thread],
        "subject": [subjects[t] if j == 0 else f"Re: {subjects[t]}" for t, j in zip(thread, msg_no, strict=True)],
        "body": [message_text(str(k), str(topic[t]), str(language[t]), rng) for k, t in zip(kind, thread, strict=True)],
        "agent": [a if d == "outbound" else None for a, d in zip(agent[thread], direction, strict=True)],
    })
    last_msg = np.full(T, "", dtype=object)
    if len(thread):
        last_msg[thread] = inter_ids  # sorted by time: the last assignment wins
    feedback = _feedback(rng, plan, customers, cfg, t_cust, t0, first_reply, rounds, resolved, last_time,
                         last_msg, slow, orders, o_cust, end)
    return Service(interactions, feedback)


def _assign_agents(rng: np.random.Generator, language: np.ndarray) -> np.ndarray:
    names = np.array([a for a, _ in AGENTS], dtype=object)
    langs = np.array([lang for _, lang in AGENTS], dtype=object)
    out = np.empty(len(language), dtype=object)
    for lang in np.unique(language):
        sel = language == lang
        pool = names[langs == lang]
        english = names[langs == "en"]
        speak = (rng.random(int(sel.sum())) < 0.8) & (len(pool) > 0)
        own = pool[rng.integers(0, max(len(pool), 1), int(sel.sum()))] if len(pool) else english[:1].repeat(int(sel.sum()))
        out[sel] = np.where(speak, own, english[rng.integers(0, len(english), int(sel.sum()))])
    return out


def _feedback(rng: np.random.Generator, plan: pd.DataFrame, customers: pd.DataFrame, cfg: GeneratorSettings,
              t_cust: np.ndarray, t0: np.ndarray, first_reply: np.ndarray, rounds: np.ndarray,
              resolved: np.ndarray, last_time: np.ndarray, last_msg: np.ndarray, slow: np.ndarray,
              orders: pd.DataFrame, o_cust: np.ndarray, end: np.datetime64) -> pd.DataFrame:
    ids = plan["customer_id"].to_numpy()
    language = customers["language"].to_numpy()
    frt_h = (first_reply - t0).astype("timedelta64[s]").astype(float) / 3600
    csat_idx = np.flatnonzero(resolved & (rng.random(len(t_cust)) < cfg.csat_response_share))
    c_when = last_time[csat_idx] + _hours(rng.uniform(0.5, 48, len(csat_idx)))
    score = (4.8 - 0.8 * np.log2(1 + frt_h[csat_idx] / 4) - 0.5 * (rounds[csat_idx] - 1)
             + rng.normal(0, 0.6, len(csat_idx)))
    csat = np.clip(np.round(score), 1, 5).astype(np.int64)
    keep = c_when < end
    csat_idx, c_when, csat = csat_idx[keep], c_when[keep], csat[keep]

    n = len(plan)
    buyer = np.bincount(o_cust, minlength=n) > 0
    nps_c = np.flatnonzero(buyer & (rng.random(n) < cfg.nps_response_share))
    o_when = orders["order_date"].to_numpy(dtype="datetime64[ns]")
    first = pd.Series(o_when).groupby(o_cust).min()
    first_when = np.full(n, end, dtype="datetime64[ns]")
    first_when[first.index.to_numpy()] = first.to_numpy()
    span = (end - first_when[nps_c]).astype(np.int64)
    n_when = first_when[nps_c] + (rng.random(len(nps_c)) * span).astype("timedelta64[ns]")
    had_slow = np.zeros(n, dtype=bool)
    had_slow[t_cust[slow]] = True
    lapsing = plan["lapsing"].to_numpy()
    nps_score = (8.3 + rng.normal(0, 1.6, len(nps_c)) - 3.0 * had_slow[nps_c] - 1.5 * lapsing[nps_c]
                 + 0.6 * plan["brand_loyal"].to_numpy()[nps_c])
    nps = np.clip(np.round(nps_score), 0, 10).astype(np.int64)

    cust = np.concatenate([t_cust[csat_idx], nps_c])
    kinds = np.concatenate([np.full(len(csat_idx), "csat", dtype=object), np.full(len(nps_c), "nps", dtype=object)])
    scores = np.concatenate([csat, nps])
    when = np.concatenate([c_when, n_when])
    link = np.concatenate([last_msg[csat_idx], np.full(len(nps_c), None, dtype=object)])
    comment = [comment_text(str(k), int(s), str(language[c]), rng) for k, s, c in zip(kinds, scores, cust, strict=True)]
    frame = pd.DataFrame({
        "customer_id": ids[cust], "kind": kinds, "score": scores, "comment": comment,
        "submitted_at": when, "interaction_id": link,
    })
    return frame.sort_values(["customer_id", "submitted_at"], kind="stable").reset_index(drop=True)
