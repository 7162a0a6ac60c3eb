"""Vietnamese (default) and English strings of the consumer pages."""

from __future__ import annotations

LANGS = ("vi", "en")

STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "title_suffix": "Truy xuất nguồn gốc",
        "producer": "Nhà sản xuất",
        "origin": "Vùng trồng",
        "area_code": "Mã số vùng trồng",
        "harvest": "Ngày thu hoạch",
        "lot": "Số lô",
        "serial": "Số sê-ri",
        "expiry": "Hạn sử dụng",
        "brand": "Thương hiệu",
        "journey": "Hành trình sản phẩm",
        "diary": "Nhật ký canh tác",
        "sensors": "Dữ liệu cảm biến",
        "certs": "Chứng nhận",
        "verify": "Xác thực trên blockchain",
        "verified": "ĐÃ XÁC THỰC",
        "pending": "ĐANG CHỜ XÁC THỰC",
        "not_verified": "KHÔNG XÁC THỰC",
        "verified_text": "Mọi bản ghi của lô này khớp với dấu thời gian đã neo trên blockchain.",
        "pending_text": "Một số bản ghi mới chưa được neo lên blockchain.",
        "not_verified_text": "Có bản ghi đã bị thay đổi sau khi ghi nhận. Không nên tin thông tin này.",
        "root": "Gốc Merkle",
        "block": "Khối",
        "tx": "Giao dịch",
        "anchored_at": "Thời điểm neo",
        "download": "Tải gói bằng chứng",
        "how": "Tự kiểm tra: agritrace verify goi.json --rpc <địa chỉ RPC>",
        "recalled": "SẢN PHẨM BỊ THU HỒI",
        "recall_text": "Lô hàng này đang bị thu hồi. Vui lòng không sử dụng và liên hệ nơi bán.",
        "copy_warning": "CẢNH BÁO: MÃ CÓ THỂ BỊ SAO CHÉP",
        "copy_text": "Mã này có dấu hiệu bất thường (quét nhiều lần, nhiều nơi hoặc mã không hợp lệ). Có thể là hàng giả.",
        "switch": "English",
        "no_events": "Chưa có sự kiện nào.",
        "held_by": "Đơn vị giữ hàng",
        "stars": "sao OCOP",
        "trace_link": "Truy xuất",
        "min": "thấp nhất",
        "max": "cao nhất",
        "mean": "trung bình",
        "out_of_range": "lần vượt ngưỡng",
        "override": "Thu hoạch trước thời gian cách ly (được quản trị phê duyệt)",
    },
    "en": {
        "title_suffix": "Traceability",
        "producer": "Producer",
        "origin": "Growing area",
        "area_code": "Planting area code",
        "harvest": "Harvest date",
        "lot": "Lot",
        "serial": "Serial",
        "expiry": "Best before",
        "brand": "Brand",
        "journey": "Journey",
        "diary": "Farm diary",
        "sensors": "Sensor data",
        "certs": "Certifications",
        "verify": "Blockchain verification",
        "verified": "VERIFIED",
        "pending": "PENDING",
        "not_verified": "NOT VERIFIED",
        "verified_text": "Every record of this lot matches the fingerprints anchored on the blockchain.",
        "pending_text": "Some recent records are not anchored on the blockchain yet.",
        "not_verified_text": "Some records were changed after they were captured. Do not trust this information.",
        "root": "Merkle root",
        "block": "Block",
        "tx": "Transaction",
        "anchored_at": "Anchored at",
        "download": "Download the proof bundle",
        "how": "Check it yourself: agritrace verify bundle.json --rpc <RPC URL>",
        "recalled": "PRODUCT RECALLED",
        "recall_text": "This lot is being recalled. Please do not consume it and contact the seller.",
        "copy_warning": "WARNING: THIS CODE MAY BE A COPY",
        "copy_text": "This code was scanned in a suspicious pattern (many scans, many places, or an invalid code). It may be counterfeit.",
        "switch": "Tiếng Việt",
        "no_events": "No events yet.",
        "held_by": "Held by",
        "stars": "OCOP stars",
        "trace_link": "Trace",
        "min": "min",
        "max": "max",
        "mean": "mean",
        "out_of_range": "out-of-range periods",
        "override": "Harvested before the pre-harvest interval ended (admin override)",
    },
}


def pick_lang(query_lang: str | None, accept_language: str | None) -> str:
    if query_lang in LANGS:
        return query_lang
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGS:
            return tag
    return "vi"
