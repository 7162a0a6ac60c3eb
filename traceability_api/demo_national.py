"""What the demo's final products need for a complete national traceability record (Circular
02/2024/TT-BKHCN): brand, shelf life, a picture served by the service, and the standards applied.
Applied once, after the demo is seeded; one lot per chain then has a complete record (tested).
Standard numbers are real Vietnamese standards; the TCCS (company standards) are the demo's own."""

from __future__ import annotations

from sqlmodel import Session, col, select

from traceability_api.consensus.gs1_uri import with_check_digit
from traceability_api.lots.models import Product


def _g(n: int) -> str:
    """The demo's GTINs (demo.py, demo_dongthap.py): 893 + a 10-digit number + check digit."""
    return with_check_digit(f"893{n:010d}")


_VIETGAP_CROPS = {
    "kind": "TCVN",
    "number": "11892-1:2017",
    "title": "Thực hành nông nghiệp tốt (VietGAP) – Phần 1: Trồng trọt",
}
_VIETGAP_AQUA = {
    "kind": "TCVN",
    "number": "11892-2:2017",
    "title": "Thực hành nông nghiệp tốt (VietGAP) – Phần 2: Nuôi trồng thủy sản",
}
_METALS = {"kind": "QCVN", "number": "8-2:2011/BYT", "title": "Giới hạn ô nhiễm kim loại nặng trong thực phẩm"}
IMAGE = "/app/static/product-{}.svg"

# GTIN -> (picture, brand, shelf life in days, standards)
PRODUCTS: dict[str, tuple[str, str, int, list[dict[str, str]]]] = {
    _g(1002): ("rice", "Gạo Thạnh Phú", 365, [
        {"kind": "TCVN", "number": "11888:2017", "title": "Gạo trắng"}, _METALS,
        {"kind": "TCCS", "number": "01:2025/GTP", "title": "Gạo ST25 Thạnh Phú"}]),
    _g(2001): ("mango", "Xoài cát Hòa Lộc", 14, [
        _VIETGAP_CROPS, {"kind": "TCCS", "number": "01:2025/HL", "title": "Xoài cát Hòa Lộc quả tươi"}]),
    _g(3002): ("mango", "Xoài Cao Lãnh", 21, [
        _VIETGAP_CROPS, {"kind": "TCCS", "number": "02:2025/CL", "title": "Xoài cát Chu đóng thùng xuất khẩu"}]),
    _g(3103): ("fish", "Cá lóc Tháp Mười", 5, [
        _VIETGAP_AQUA, {"kind": "TCCS", "number": "01:2025/TM", "title": "Cá lóc ruộng lúa–cá"}]),
    _g(3202): ("egg", "Trứng vịt Tân Hồng", 21, [
        _METALS, {"kind": "TCCS", "number": "02:2025/TH", "title": "Trứng vịt tươi"}]),
    _g(3203): ("egg", "Vịt Gò Bói", 30, [
        _METALS, {"kind": "TCCS", "number": "03:2025/TH", "title": "Trứng vịt muối"}]),
    _g(3302): ("fish", "Cá tra Thanh Bình", 3, [
        _VIETGAP_AQUA,
        {"kind": "QCVN", "number": "02-20:2014/BNNPTNT", "title": "Cơ sở nuôi cá tra trong ao – Điều kiện bảo đảm vệ sinh thú y, bảo vệ môi trường và an toàn thực phẩm"}]),
    _g(3401): ("flower", "Hoa Sa Đéc", 30, [
        {"kind": "TCCS", "number": "01:2025/SĐ", "title": "Hoa cúc mâm xôi trồng chậu"}]),
}  # fmt: skip


def complete_demo_products(s: Session) -> None:
    rows = s.exec(select(Product).where(col(Product.gtin).in_(list(PRODUCTS)))).all()
    for product in rows:
        picture, brand, days, standards = PRODUCTS[product.gtin]
        product.image_url = product.image_url or IMAGE.format(picture)
        product.brand = product.brand or brand
        product.shelf_life_days = product.shelf_life_days or days
        product.standards = standards
        s.add(product)
    s.flush()
