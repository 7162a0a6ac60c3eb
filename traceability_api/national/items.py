"""The mandatory items of a national traceability record and the one rule saying which are missing.

Circular 02/2024/TT-BKHCN lists the minimum information of a product's traceability record: name and
image; name and address of the producer; the production and business stages; production time; the
trace code; brand, trademark, code and serial (where present); shelf life (where present); the
standards applied (TCVN, QCVN, international or the facility's own).  TCVN 12850:2019 (GS1 Global
Traceability Standard 2.0) asks each stage (critical tracking event) to name what (product trace
code), where (location trace code) and when.  Serials are checked only where a lot has them; brand
and shelf life are required here for farm food products (see docs/national-record.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

# code -> (Vietnamese, English): the order is the order of the check and of the record
ITEMS: dict[str, tuple[str, str]] = {
    "product_name": ("Tên sản phẩm", "Product name"),
    "product_image": ("Hình ảnh sản phẩm (đường dẫn https)", "Product image (an https link)"),
    "producer_name": ("Tên đơn vị sản xuất", "Producer name"),
    "producer_address": ("Địa chỉ đơn vị sản xuất", "Producer address"),
    "producer_public": ("Hồ sơ đơn vị được công khai", "Producer profile made public"),
    "stages": ("Các công đoạn sản xuất, kinh doanh", "Production and business stages"),
    "stage_location_code": ("Mã truy vết địa điểm của mỗi công đoạn", "Location trace code of every stage"),
    "production_time": ("Thời gian sản xuất (ngày thu hoạch hoặc đóng gói)", "Production time (harvest or packing day)"),
    "trace_code": ("Mã truy vết sản phẩm (GTIN và số lô)", "Product trace code (GTIN and lot)"),
    "brand": ("Thương hiệu, nhãn hiệu", "Brand or trademark"),
    "shelf_life": ("Thời hạn sử dụng", "Shelf life"),
    "standards": ("Tiêu chuẩn áp dụng (TCVN, QCVN hoặc TCCS, có số hiệu)", "Standards applied (TCVN, QCVN or TCCS, with numbers)"),
}  # fmt: skip

# what to do about each missing item, said to the cooperative
FIXES: dict[str, tuple[str, str]] = {
    "product_name": ("Đặt tên sản phẩm.", "Name the product."),
    "product_image": ("Thêm ảnh sản phẩm (PATCH /api/v1/products/{id}, image_url).", "Add a product image (PATCH /api/v1/products/{id}, image_url)."),
    "producer_name": ("Cập nhật tên đơn vị.", "Set the organisation's name."),
    "producer_address": ("Thêm địa chỉ đơn vị (PATCH /api/v1/organisations/me).", "Add the organisation's address (PATCH /api/v1/organisations/me)."),
    "producer_public": ("Bật công khai hồ sơ đơn vị (public_profile).", "Make the organisation's profile public (public_profile)."),
    "stages": ("Ghi nhận ít nhất một công đoạn (thu hoạch, đóng gói...).", "Record at least one stage (harvest, packing...)."),
    "stage_location_code": ("Ghi địa điểm (GLN, mã vùng trồng) cho mọi công đoạn.", "Give every stage a place (GLN or planting-area code)."),
    "production_time": ("Ghi ngày thu hoạch hoặc sự kiện đóng gói.", "Record the harvest day or a packing event."),
    "trace_code": ("Kiểm tra GTIN và số lô.", "Check the GTIN and lot code."),
    "brand": ("Thêm thương hiệu sản phẩm (brand).", "Add the product's brand."),
    "shelf_life": ("Thêm thời hạn sử dụng (shelf_life_days).", "Add the shelf life (shelf_life_days)."),
    "standards": ("Khai báo tiêu chuẩn áp dụng, ví dụ TCVN 11888:2017.", "Declare the standards applied, e.g. TCVN 11888:2017."),
}  # fmt: skip
assert set(FIXES) == set(ITEMS)


@dataclass
class LotFacts:
    """What the check needs to know of one lot (built from the record, or in bulk for figures)."""

    product_name: str | None
    image_ok: bool
    producer_name: str | None
    producer_address: str | None
    producer_public: bool
    stages: int
    stages_without_location: int
    production_day: bool
    trace_code_ok: bool
    brand: str | None
    shelf_life_days: int | None
    standards: list[dict[str, str]] = field(default_factory=list)


def missing_items(f: LotFacts) -> list[str]:
    """The codes of the mandatory items this lot lacks, in ITEMS order (empty: complete)."""
    present = {
        "product_name": bool((f.product_name or "").strip()),
        "product_image": f.image_ok,
        "producer_name": bool((f.producer_name or "").strip()),
        "producer_address": bool((f.producer_address or "").strip()),
        "producer_public": f.producer_public,
        "stages": f.stages > 0,
        "stage_location_code": f.stages > 0 and f.stages_without_location == 0,
        "production_time": f.production_day,
        "trace_code": f.trace_code_ok,
        "brand": bool((f.brand or "").strip()),
        "shelf_life": bool(f.shelf_life_days),
        "standards": any(s.get("number") for s in f.standards),
    }
    return [code for code in ITEMS if not present[code]]


def describe(codes: list[str], lang: str = "vi") -> list[dict[str, str]]:
    """Each missing item with its name and what to do, in the asked language (Vietnamese first)."""
    i = 1 if lang == "en" else 0
    return [{"item": c, "label": ITEMS[c][i], "fix": FIXES[c][i]} for c in codes]
