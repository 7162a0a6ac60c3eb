"""Console words: Vietnamese first, English by the workspace's switch. One catalogue per language;
sections add their words here."""

from __future__ import annotations

T: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Bảng điều hành cơ quan quản lý",
        "only_authority": "Trang này chỉ dành cho thành viên cơ quan quản lý nhà nước.",
        "sections": "Chức năng",
        "overview": "Tổng quan",
        "organisations": "Tổ chức",
        "lots": "Lô hàng",
        "events": "Sự kiện đã ghi",
        "waiting_anchor": "Sự kiện chờ neo lên chuỗi khối",
        "open_recalls": "Lệnh thu hồi",
        "figure": "Chỉ số",
        "value": "Giá trị",
        "national_record": "Hồ sơ truy xuất quốc gia",
        "nr_intro": "Mức đầy đủ các thông tin bắt buộc (Thông tư 02/2024/TT-BKHCN) của lô hàng mỗi tổ chức,"
        " theo thời gian ghi nhận lô.",
        "nr_org": "Tổ chức",
        "nr_lots": "Số lô",
        "nr_complete": "Lô đủ thông tin",
        "nr_share": "Tỷ lệ đủ",
        "nr_missing": "Thông tin còn thiếu (số lô)",
        "nr_from": "Từ ngày",
        "nr_until": "Đến trước ngày",
        "nr_show": "Xem",
        "nr_none": "Chưa có lô hàng trong khoảng thời gian này.",
        "nr_export": "Tải hồ sơ (JSON)",
        "nr_bad_date": "Ngày không hợp lệ: dùng dạng năm-tháng-ngày.",
    },
    "en": {
        "title": "Authority console",
        "only_authority": "This page is for members of an authority organisation only.",
        "sections": "Sections",
        "overview": "Overview",
        "organisations": "Organisations",
        "lots": "Lots",
        "events": "Events recorded",
        "waiting_anchor": "Events waiting to be anchored",
        "open_recalls": "Recalls",
        "figure": "Figure",
        "value": "Value",
        "national_record": "National traceability records",
        "nr_intro": "How complete the mandatory items (Circular 02/2024/TT-BKHCN) of each organisation's lots are,"
        " by when the lots were recorded.",
        "nr_org": "Organisation",
        "nr_lots": "Lots",
        "nr_complete": "Complete lots",
        "nr_share": "Share complete",
        "nr_missing": "Missing items (lots)",
        "nr_from": "From",
        "nr_until": "Before",
        "nr_show": "Show",
        "nr_none": "No lots recorded in this period.",
        "nr_export": "Download records (JSON)",
        "nr_bad_date": "Invalid date: use year-month-day.",
    },
}

assert T["vi"].keys() == T["en"].keys(), "every word in both languages"
