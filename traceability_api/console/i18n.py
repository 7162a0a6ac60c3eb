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
    },
}

assert T["vi"].keys() == T["en"].keys(), "every word in both languages"
