"""customer_type: the given kind wins; legal forms, public bodies and tax ids in five languages;
wholesale behaviour as weaker evidence; individual by default."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from clientlens.segments import SegmentRules, label_customers

CASES = [
    # (name, kind, quantity_per_order, orders, expected, rule)
    ("Pearce Ltd", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Jones PLC", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Acme Inc.", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Geisler Sp. z o.o.", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Boduch Sp.j.", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Orlen S.A.", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Grenier S.A.R.L.", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Dupont SAS", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Textor GmbH & Co. KG", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Hermighausen AG", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Công ty TNHH Phạm và đối tác", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Cong ty co phan Sao Mai", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Công ty Cổ phần Vinamilk", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("University of Leeds", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Leeds City Council", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Ministry of Defence", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Urząd Miasta Krakowa", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Szkoła Podstawowa nr 5", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Szpital Wojewódzki w Poznaniu", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Uniwersytet Jagielloński", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Trường Đại học Bách khoa", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Bệnh viện Bạch Mai", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Ủy ban nhân dân Quận 1", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Mairie de Lyon", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Hôpital Saint-Louis", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Université de Lille", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Lycée Victor Hugo", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Klinikum Stuttgart", None, 2.0, 3, "institutional", "customer_type.public_body"),
    ("Kowalski Handel NIP 526-104-08-28", None, 2.0, 3, "professional", "customer_type.tax_id"),
    ("Nguyễn Văn An MST 0101234567", None, 2.0, 3, "professional", "customer_type.tax_id"),
    ("Smith Trading VAT GB123456789", None, 2.0, 3, "professional", "customer_type.tax_id"),
    ("Martin Durand", None, 80.0, 6, "professional", "customer_type.wholesale"),
    ("Martin Durand", None, 80.0, 1, "individual", "customer_type.default"),
    ("Hospital Supplies Ltd", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("Pearce Ltd", "individual", 2.0, 3, "individual", "customer_type.given"),
    ("Jan Kowalski", "Institution", 2.0, 3, "institutional", "customer_type.given"),
    ("Jan Kowalski", None, 2.0, 3, "individual", "customer_type.default"),
    ("Nguyễn Xuân Trường", None, 2.0, 3, "individual", "customer_type.default"),
    ("Agnès Sas", None, 2.0, 3, "professional", "customer_type.legal_form"),
    ("E. V. Smith", None, 2.0, 3, "individual", "customer_type.default"),
    (None, None, None, 0, "individual", "customer_type.default"),
]


@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    feats = pd.DataFrame({
        "customer_id": [f"c{i:02d}" for i in range(len(CASES))],
        "name": [c[0] for c in CASES], "kind": [c[1] for c in CASES],
        "quantity_per_order": [c[2] for c in CASES], "orders": [c[3] for c in CASES],
        "total_spend": [10.0 * c[3] for c in CASES],
    })
    labels = label_customers(feats, rules=SegmentRules.from_settings(), taxonomies=["customer_type"])
    return labels.set_index("customer_id")


@pytest.mark.parametrize("i", range(len(CASES)))
def test_customer_type(labelled: pd.DataFrame, i: int) -> None:
    name, _, _, _, expected, rule = CASES[i]
    row = labelled.loc[f"c{i:02d}"]
    assert (row["label"], row["rule_id"]) == (expected, rule), name
    assert isinstance(json.loads(row["figures"]), dict)


def test_one_label_per_customer(labelled: pd.DataFrame) -> None:
    assert labelled.index.is_unique and len(labelled) == len(CASES)
