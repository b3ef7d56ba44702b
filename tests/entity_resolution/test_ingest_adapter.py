"""The ingest seam: batches of ingest records resolve to known enterprises."""

from __future__ import annotations

from entity_resolution.ingest_adapter import IndexResolver
from entity_resolution.records import EnterpriseRecord as Master
from ingest.records import EnterpriseRecord, RecordResolver
from tests.entity_resolution.cases import U_HAINAN, U_TUOBO


def test_batches_resolve_to_master_enterprises() -> None:
    resolver = IndexResolver([
        Master("M-E1", "master", "宁波拓搏国际贸易有限公司", uscc=U_TUOBO, region_code="330200",
               phone="0574-87654321", enterprise_id="E1"),
        Master("M-E2", "master", "海南拓搏国际贸易有限公司", uscc=U_HAINAN, region_code="460100",
               enterprise_id="E2"),
    ])
    assert isinstance(resolver, RecordResolver)
    out = resolver.resolve([
        EnterpriseRecord("r1", "customs", "拓搏國際貿易（寧波）有限公司", phone="0574 8765 4321"),
        EnterpriseRecord("r2", "tax", "海南拓搏国际贸易有限公司", uscc=U_HAINAN),
        EnterpriseRecord("r3", "erp", "深圳市腾讯计算机系统有限公司", phone="0755-86013388"),
    ])
    assert [(r.record.record_id, r.enterprise_id) for r in out] == [
        ("r1", "E1"), ("r2", "E2"), ("r3", None)
    ]
    assert out[0].method == "chainlens_er" and out[0].score is not None and out[0].score > 0.9
    # A later batch meets records of earlier batches through the index.
    again = resolver.resolve(
        [EnterpriseRecord("r4", "tax", "深圳市腾讯计算机系统有限公司", phone="075586013388")]
    )
    assert again[0].enterprise_id is None
    assert resolver.links[-1].entity_id == resolver.links[-2].entity_id
