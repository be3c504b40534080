"""Reads of the company: queries, CDC, the truth the tests compare with, snapshots."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from heapq import merge
from itertools import islice
from typing import Any

from .books import Books
from .fastquery import answer
from .jsontree import copy_json
from .money import ZERO, decimal_string, dumps
from .query import Result, execute
from .queryschema import Query
from .render import row_bytes
from .shapes import (
    JSON,
    _by_id,
)
from .wire import entity_time, parse_datetime

#: (changed at, Id as a number, key of the row)
Entry = tuple[datetime, int, str]
#: (changed at, entity's place in the request, Id as a number, entity, payload, is live)
Change = tuple[datetime, int, int, str, JSON, bool]


def _ORDER(change: Change) -> tuple[datetime, int, int]:
    return change[0], change[1], change[2]


def _tagged(
    found: Iterable[Entry], rank: int, entity: str, row: Callable[[str], JSON]
) -> Iterator[Change]:
    return ((moment, rank, number, entity, row(key), True) for moment, number, key in found)


class Views(Books):
    """Queries, CDC and whole-company views."""

    def live_rows(self, entity: str) -> list[JSON]:
        return list(self.entities[entity].values())

    def _select(self, query: Query) -> Result:
        rows = self.entities[query.entity]
        if self.unkind.shuffle_ties:
            return execute(query, rows.values(), self.tz, self.unkind.shuffle)
        index = self.read_index.get(query.entity)
        found = answer(query, rows, index) if index is not None else None
        return found if found is not None else execute(query, rows.values(), self.tz)

    def query_response(self, query: Query) -> bytes:
        """The query's answer as wire bytes: ``dumps(run_query(query))``, with each row's
        encoding taken from the read index's cache."""
        with self.lock:
            index = self.read_index.get(query.entity)
            if index is None or query.count or query.projection is not None:
                return dumps(self.run_query(query)).encode("utf-8")
            result = self._select(query)
            if not result.rows:
                return dumps(self._query_body(query, result)).encode("utf-8")
            tail: JSON = {"startPosition": query.start_position, "maxResults": len(result.rows)}
            if query.entity == "Invoice":
                tail["totalCount"] = len(result.rows)
            return b"".join(
                (
                    b'{"QueryResponse":{',
                    dumps(query.entity).encode("utf-8"),
                    b":[",
                    b",".join(index.encoded_many(result.rows)),
                    b"],",
                    dumps(tail).encode("utf-8")[1:],
                    b',"time":',
                    dumps(self.time()).encode("utf-8"),
                    b"}",
                )
            )

    def run_query(self, query: Query) -> JSON:
        with self.lock:
            return self._query_body(query, self._select(query))

    def _query_body(self, query: Query, result: Result) -> JSON:
        body: JSON = {}
        if query.count:
            body["totalCount"] = result.total
        elif result.rows:
            # No copy: the API serialises the answer before it releases the (re-entrant)
            # lock, so no write can change a row between here and the wire.
            body[query.entity] = result.rows
            body["startPosition"] = query.start_position
            body["maxResults"] = len(result.rows)
            # Recorded samples carry totalCount on Invoice queries only.
            if query.entity == "Invoice":
                body["totalCount"] = len(result.rows)
        return {"QueryResponse": body, "time": self.time()}

    def changes_since(self, entities: list[str], since: datetime, cap: int) -> tuple[JSON, int]:
        """CDC: latest state of everything changed at or after ``since``, oldest change first.

        The cap applies to the whole response (the stricter reading of Intuit's docs); when it
        bites, the oldest changes are kept so a client can narrow the window and continue from
        the last LastUpdatedTime it received.
        """
        with self.lock:
            grouped, total = self._changes(entities, since, cap)
            responses: list[JSON] = []
            for entity, rows in grouped.items():
                # No copy: as for queries, the answer is serialised under the lock.
                payloads = [payload for payload, _ in rows]
                if payloads:
                    responses.append(
                        {entity: payloads, "startPosition": 1, "maxResults": len(payloads)}
                    )
                else:
                    responses.append({})
            return {"CDCResponse": [{"QueryResponse": responses}], "time": self.time()}, total

    def cdc_response(self, entities: list[str], since: datetime, cap: int) -> bytes:
        """``dumps(changes_since(...)[0])`` as wire bytes, each live row's encoding taken from
        the read index's cache (a CDC answer repeats the rows a backfill just read)."""
        with self.lock:
            grouped, _ = self._changes(entities, since, cap)
            blocks: list[bytes] = []
            for entity, rows in grouped.items():
                if not rows:
                    blocks.append(b"{}")
                    continue
                index = self.read_index[entity]
                live = iter(index.encoded_many([payload for payload, alive in rows if alive]))
                encoded = [next(live) if alive else row_bytes(payload) for payload, alive in rows]
                blocks.append(
                    b"".join(
                        (
                            b"{",
                            dumps(entity).encode("utf-8"),
                            b":[",
                            b",".join(encoded),
                            b'],"startPosition":1,"maxResults":',
                            str(len(rows)).encode("ascii"),
                            b"}",
                        )
                    )
                )
            return b"".join(
                (
                    b'{"CDCResponse":[{"QueryResponse":[',
                    b",".join(blocks),
                    b']}],"time":',
                    dumps(self.time()).encode("utf-8"),
                    b"}",
                )
            )

    def _changes(
        self, entities: list[str], since: datetime, cap: int
    ) -> tuple[dict[str, list[tuple[JSON, bool]]], int]:
        """Per entity, in answer order, the (payload, is a live row) pairs a capped CDC answer
        holds, and how many changes there were before the cap.

        Each entity's changes come in change order from the read index; they are merged on
        (changed at, entity's place in the request, Id) - a total order - and only as far as
        the cap needs, so a wide window costs the rows kept, not every row it covers.
        """
        oldest: list[Iterator[Change]] = []
        newest: list[Iterator[Change]] = []
        total = 0
        for rank, entity in enumerate(entities):
            entries, row = self._changed_rows(entity, since)
            tombs = self._deleted_since(entity, rank, since)
            total += len(entries) + len(tombs)
            forward = _tagged(entries, rank, entity, row)
            backward = _tagged(reversed(entries), rank, entity, row)
            oldest.append(merge(forward, tombs, key=_ORDER))
            newest.append(merge(backward, reversed(tombs), key=_ORDER, reverse=True))
        if total <= cap or self.unkind.cdc_keep == "oldest":
            kept = list(islice(merge(*oldest, key=_ORDER), cap))
        elif self.unkind.cdc_keep == "newest":
            kept = list(islice(merge(*newest, key=_ORDER, reverse=True), cap))[::-1]
        else:
            kept = self._cdc_keep(list(merge(*oldest, key=_ORDER)), cap)
        grouped: dict[str, list[tuple[JSON, bool]]] = {entity: [] for entity in entities}
        for _, _, _, entity, payload, alive in kept:
            grouped[entity].append((payload, alive))
        return grouped, total

    def _deleted_since(self, entity: str, rank: int, since: datetime) -> list[Change]:
        """CDC's stubs for the entity's records deleted at or after ``since``, in change order."""
        stubs: list[Change] = []
        for (tomb_entity, _), tomb in self.tombstones.items():
            deleted = tomb.deleted_at.replace(microsecond=0)
            if tomb_entity == entity and deleted >= since:
                stub: JSON = {
                    "domain": "QBO",
                    "status": "Deleted",
                    "Id": tomb.id,
                    "MetaData": {"LastUpdatedTime": entity_time(tomb.deleted_at, self.tz)},
                }
                stubs.append((deleted, rank, int(tomb.id), entity, stub, False))
        return sorted(stubs, key=_ORDER)

    def _changed_rows(
        self, entity: str, since: datetime
    ) -> tuple[list[Entry], Callable[[str], JSON]]:
        """(changed at, Id as a number, key) of the rows changed at or after ``since``, in
        change order, and the row for a key. From the index, the entries are a slice of its
        keys: no row is looked at until the merge reaches it."""
        rows = self.entities[entity]
        index = self.read_index[entity]
        if index.sync(rows):
            return index.entries(index.span((since, True), None)), rows.__getitem__
        found: list[Entry] = []
        for key, payload in rows.items():
            moment = parse_datetime(payload["MetaData"]["LastUpdatedTime"], self.tz)
            if moment >= since:
                found.append((moment, int(payload["Id"]), key))
        found.sort(key=lambda item: (item[0], item[1]))
        return found, rows.__getitem__

    def _cdc_keep(self, found: list[Any], cap: int) -> list[Any]:
        """Which changes a capped CDC answer keeps: undocumented, so configurable."""
        if len(found) <= cap or self.unkind.cdc_keep == "oldest":
            return found[:cap]
        if self.unkind.cdc_keep == "newest":
            return found[-cap:]
        picked = set(self.unkind.sample(list(range(len(found))), cap))
        return [item for index, item in enumerate(found) if index in picked]

    def invoice_status(self, invoice_id: str) -> str:
        if invoice_id in self.voided:
            return "voided"
        invoice = self.entities["Invoice"].get(invoice_id)
        if invoice is None:
            return "deleted"
        return "paid" if invoice["Balance"] == 0 else "open"

    def truth(self) -> JSON:
        """Plain, exact view of the books for tests to compare a synced store against."""
        with self.lock:
            customers = [
                {
                    "id": c["Id"],
                    "display_name": c["DisplayName"],
                    "email": (c.get("PrimaryEmailAddr") or {}).get("Address"),
                    "active": c["Active"],
                    "currency": c["CurrencyRef"]["value"],
                    "balance": decimal_string(c["Balance"]),
                    "sync_token": c["SyncToken"],
                }
                for c in _by_id(self.entities["Customer"].values())
            ]
            invoices = self._truth_invoices()
            payments = [_truth_payment(p) for p in _by_id(self.entities["Payment"].values())]
            credit_memos = [
                {
                    "id": m["Id"],
                    "customer_id": m["CustomerRef"]["value"],
                    "total": decimal_string(m["TotalAmt"]),
                    "remaining": decimal_string(m["Balance"]),
                }
                for m in _by_id(self.entities["CreditMemo"].values())
            ]
            deleted = [
                {"entity": t.entity, "id": t.id, "at": entity_time(t.deleted_at, self.tz)}
                for t in sorted(self.tombstones.values(), key=lambda t: (t.entity, int(t.id)))
            ]
            return {
                "realm_id": self.realm_id,
                "now": entity_time(self.now(), self.tz),
                "home_currency": self.home_currency,
                "customers": customers,
                "invoices": invoices,
                "payments": payments,
                "credit_memos": credit_memos,
                "deleted": deleted,
            }

    def _truth_invoices(self) -> list[JSON]:
        """Every invoice ever created, deleted ones included (with a zero balance)."""
        invoices: list[JSON] = []
        rows = list(self.entities["Invoice"].values()) + [
            t.last for (e, _), t in self.tombstones.items() if e == "Invoice"
        ]
        for inv in _by_id(rows):
            status = self.invoice_status(inv["Id"])
            invoices.append(
                {
                    "id": inv["Id"],
                    "doc_number": inv.get("DocNumber"),
                    "customer_id": inv["CustomerRef"]["value"],
                    "currency": inv["CurrencyRef"]["value"],
                    "txn_date": inv["TxnDate"],
                    "due_date": inv.get("DueDate"),
                    "total": decimal_string(inv["TotalAmt"]),
                    "balance": decimal_string(ZERO if status == "deleted" else inv["Balance"]),
                    "status": status,
                    "sync_token": inv["SyncToken"],
                    "email_status": inv.get("EmailStatus"),
                    "bill_email": (inv.get("BillEmail") or {}).get("Address"),
                    "private_note": inv.get("PrivateNote"),
                    "last_updated": inv["MetaData"]["LastUpdatedTime"],
                }
            )
        return invoices

    def snapshot(self) -> JSON:
        """Every stored payload, for determinism checks and debugging."""
        with self.lock:
            return {
                "entities": {
                    entity: [rows[k] for k in sorted(rows, key=lambda k: (len(k), k))]
                    for entity, rows in self.entities.items()
                },
                "tombstones": [
                    {"entity": t.entity, "id": t.id, "at": t.deleted_at.isoformat(), "last": t.last}
                    for t in sorted(self.tombstones.values(), key=lambda t: (t.entity, int(t.id)))
                ],
                "voided": sorted(self.voided, key=int),
            }

    def journal_copy(self) -> JSON:
        with self.lock:
            journal: JSON = copy_json(self.journal)
            return journal


def _truth_payment(p: JSON) -> JSON:
    return {
        "id": p["Id"],
        "customer_id": p["CustomerRef"]["value"],
        "currency": p["CurrencyRef"]["value"],
        "txn_date": p["TxnDate"],
        "total": decimal_string(p["TotalAmt"]),
        "unapplied": decimal_string(p["UnappliedAmt"]),
        "allocations": [
            {
                "txn_id": line["LinkedTxn"][0]["TxnId"],
                "txn_type": line["LinkedTxn"][0]["TxnType"],
                "amount": decimal_string(line["Amount"]),
            }
            for line in p["Line"]
        ],
    }
