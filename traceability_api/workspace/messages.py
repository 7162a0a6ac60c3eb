"""A refusal of the domain services, said next to the form field it concerns, in the page's
language.  The rules themselves live in the domain (and speak English to the API); this module only
recognises each refusal and words it for people.  Unknown refusals are shown as they come."""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import ValidationError

from traceability_api.errors import DomainError
from traceability_api.workspace.i18n import T, quantity, unit
from traceability_api.workspace.registry_messages import REGISTRY

Errors = dict[str, str]  # form field ("_form" for the whole form) -> message

# (pattern of the domain's English message, field, Vietnamese, English[, Worded]); {0}.. are the
# pattern's groups, or what the row's Worded makes of them in the page's language
Worded = Callable[[tuple[str, ...], str], tuple[str, ...]]
Rule = tuple[str, str, str, str] | tuple[str, str, str, str, Worded]
_NUMBER = r"(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)"

_DOMAIN: list[Rule] = [*REGISTRY,
    # signing keys (signing/registrar.py, signing/service.py): the console's keys page
    (r"key registry refused to add .*EmptyWindow", "valid_until", "Ngày kết thúc phải sau ngày bắt đầu.",
     "The end date must be after the start date."),
    (r"key registry refused to [^:]*: (.*)", "_form", "Sổ đăng ký khóa trên chuỗi khối từ chối: {0}",
     "The on-chain key registry refused: {0}"),
    (r"key registry could not be read back", "_form", "Đã gửi lên chuỗi khối nhưng chưa đọc lại được; hãy thử lại.",
     "Sent to the chain but not read back yet; try again."),
    (r"custodial keys are not available", "_form", "Chưa thể giữ khóa hộ: dịch vụ chưa có mật khẩu khóa.",
     "Custodial keys are not available: no key password is configured."),
    (r"there is no key registry", "_form", "Dịch vụ chạy không có chuỗi khối: không có sổ đăng ký khóa.",
     "This service runs without a chain: there is no key registry."),
    (r"(0x[0-9a-fA-F]{40}) is not a key of organisation", "_form", "{0} không phải khóa của tổ chức này.",
     "{0} is not a key of this organisation."),
    (r"(0x[0-9a-fA-F]{40}) is already registered", "_form", "Địa chỉ {0} đã được đăng ký.",
     "Address {0} is already registered."),
    (r"is not a 0x-prefixed 20-byte address", "_form", "Địa chỉ phải gồm 0x và 40 chữ số hex.",
     "An address is 0x and 40 hex digits."),
    (r"only a market authority registers", "_form", "Chỉ cơ quan quản lý được đăng ký, xoay và thu hồi khóa.",
     "Only a market authority registers, rotates and revokes keys."),
    (r"^organisation (\d+) not found", "_form", "Tổ chức này không tồn tại.", "No such organisation."),
    # X.509 attestation of a signing key (signing/attestation.py): next to the certificate field
    (r"no trust anchors are configured", "att_certificates",
     "Cơ quan quản lý chưa cấu hình tổ chức chứng thực tin cậy: chưa nhận được chứng thư số.",
     "No trusted certification authority is configured: attestations are off."),
    (r"trust anchors unreadable", "att_certificates", "Không đọc được danh sách tổ chức chứng thực tin cậy.",
     "The list of trusted certification authorities cannot be read."),
    (r"certificates must be PEM and the signature base64", "att_certificates",
     "Chứng thư số phải ở dạng PEM và chữ ký ở dạng base64.", "Certificates must be PEM and the signature base64."),
    (r"does not chain to a trust anchor", "att_certificates",
     "Chứng thư số không dẫn tới một tổ chức chứng thực được tin cậy.",
     "The certificate does not chain to a trusted certification authority."),
    (r"only RSA and ECDSA certificates", "att_certificates", "Chỉ nhận chứng thư số RSA hoặc ECDSA.",
     "Only RSA and ECDSA certificates are accepted."),
    (r"key did not sign '([^']*)'", "att_certificates", "Khóa của chứng thư số chưa ký dòng chữ «{0}».",
     "The certificate's key did not sign «{0}»."),
    (r"must be JPEG, PNG, WebP", "photo", "Ảnh phải là JPEG, PNG hoặc WebP.", "The photo must be JPEG, PNG or WebP."),
    (r"exceeds the limit of", "photo", "Ảnh quá lớn.", "The photo is too large."),
    (r"^empty file", "photo", "Tệp ảnh rỗng.", "The photo file is empty."),
    (r"image cannot be read|PDF is incomplete", "photo", "Tệp bị hỏng hoặc gửi chưa hết: hãy chọn hoặc chụp lại.",
     "The file is damaged or was not sent whole: choose or take it again."),
    (r"the image has (\d+) x (\d+) pixels", "photo", "Ảnh quá nhiều điểm ảnh ({0} x {1}): hãy gửi ảnh nhỏ hơn.",
     "The photo has too many pixels ({0} x {1}): send a smaller one."),
    (r"\b(Polygon|Point|GeoJSON|longitude|latitude)\b", "geo", "Ranh giới hoặc tọa độ không hợp lệ.",
     "Invalid outline or coordinates."),
    (r"\bharvest from (.*?) is blocked by a withdrawal period: (.*) \(.*?\) given at (\S+ \S+) with (\d+) days'"
     r" withdrawal, ends (\S+ \S+)", "time",
     "Đang trong thời gian ngưng thuốc tại {0}: {1} dùng lúc {2}, ngưng {3} ngày; chỉ được thu hoạch từ {4}.",
     "Inside the withdrawal period at {0}: {1} given at {2}, {3} days; harvest allowed from {4}."),
    (r"\bsale of lot (\S+) from (.*?) is blocked by a withdrawal period: (.*) \(.*?\) given at (\S+ \S+) with (\d+)"
     r" days' withdrawal, ends (\S+ \S+)", "lot",
     "Lô {0} ({1}) còn trong thời gian ngưng thuốc: {2} dùng lúc {3}, ngưng {4} ngày, đến {5}; chưa được bán.",
     "Lot {0} ({1}) is inside a withdrawal period: {2} given at {3}, {4} days, until {5}; it may not be sold."),
    (r"only an organisation admin may override a withdrawal period", "withdrawal_override_reason",
     "Chỉ quản trị viên được làm trong thời gian ngưng thuốc.", "Only an admin may override a withdrawal period."),
    (r"(\w+) is recorded at a (.*); place \d+ is a (\w+)", "place_id",
     "Công việc này chỉ ghi ở: {1} (nơi đã chọn là {2}).", "This activity is recorded at: {1} (this place is a {2})."),
    (r"only an organisation admin", "_form", "Chỉ quản trị viên được làm việc này.", "Only an admin may do this."),
    (r"take away their own admin role", "_form", "Không thể bỏ quyền quản trị của chính mình.",
     "You cannot remove your own admin role."),
    (r"^username:", "username", "3-64 chữ thường, số và . _ -", "3-64 lower-case letters, digits and . _ -"),
    (r"^password:", "password", "Mật khẩu cần 8-200 ký tự.", "Password: 8-200 characters."),
    (r"username already taken", "username", "Tên đăng nhập đã có người dùng.", "Username already taken."),
    (r"this member already has a sign-in", "_form", "Thành viên này đã có tài khoản đăng nhập: hãy đăng nhập bằng "
     "tài khoản đó.", "This member already has a sign-in: sign in with it."),
    (r"harvest date (\d{4})-(\d\d)-(\d\d) is in the future", "harvest_date",
     "Ngày thu hoạch {2}/{1}/{0} chưa tới: chỉ ghi lô khi đã thu hoạch.",
     "Harvest date {2}/{1}/{0} is in the future: record the lot once harvested."),
    (r"harvest date (\d{4})-(\d\d)-(\d\d) is more than (\d+) years ago", "harvest_date",
     "Ngày thu hoạch {2}/{1}/{0} cách đây hơn {3} năm: kiểm tra lại năm.",
     "Harvest date {2}/{1}/{0} is more than {3} years ago: check the year."),
    (r"inside the pre-harvest interval: (.*?) was sprayed at (\S+ \S+) .*?safe from (\S+ \S+)", "harvest_date",
     "Chưa hết thời gian cách ly: {0} phun lúc {1}, chỉ được thu hoạch từ {2}.",
     "Inside the pre-harvest interval: {0} sprayed at {1}, safe from {2}."),
    (r"contains a banned substance \((.*)\)", "active_ingredient",
     "Hoạt chất bị cấm sử dụng: {0}.", "Banned substance: {0}."),
    (r"lot .* already exists", "lot_code", "Mã lô này đã có. Hãy chọn mã khác.", "This lot code already exists."),
    # numbers and unit codes worded as the pages write them ("1.000,5 kg", not "1000.5 KGM")
    (rf"quantity {_NUMBER} exceeds the lot's remaining {_NUMBER} (\S+)", "quantity",
     "Số lượng {0} vượt quá lượng còn lại của lô ({1}).", "Quantity {0} exceeds what is left in the lot ({1}).",
     lambda g, lang: (quantity(float(g[0]), g[2], lang), quantity(float(g[1]), g[2], lang))),
    (r"unit (\S+) does not match the lot's unit (\S+)", "quantity",
     "Đơn vị {0} khác đơn vị của lô ({1}).", "Unit {0} differs from the lot's unit {1}.",
     lambda g, lang: (unit(g[0], lang), unit(g[1], lang))),
    (r"more output|yield|mass balance", "outputs",
     "Đầu ra nhiều hơn mức cho phép so với đầu vào (cân bằng khối lượng).",
     "Outputs exceed what the inputs allow (mass balance)."),
    (r"is in transit; it must be received first", "lot",
     "Lô đang vận chuyển, cần nhận hàng trước.", "The lot is in transit; receive it first."),
    (r"does not hold lot", "lot", "Đơn vị bạn không giữ lô này.", "Your organisation does not hold this lot."),
    (r"not in transit to your organisation", "lot",
     "Lô này không được gửi đến đơn vị bạn.", "This lot is not on its way to you."),
    (r"is under recall: its labels are not printed", "_form", "Lô đang bị thu hồi: không in tem.",
     "The lot is under recall: no labels are printed."),
    (r"recalled lot may not be shipped", "lot", "Lô đang bị thu hồi, không được giao.", "A recalled lot cannot ship."),
    (r"already consumed", "lot", "Lô đã được chế biến hết.", "The lot was already used up."),
    (r"destination must be another organisation", "partner",
     "Phải giao cho một đơn vị khác.", "Ship to another organisation."),
    (r"belongs to another organisation", "gtin",
     "Sản phẩm này thuộc đơn vị khác.", "This product belongs to another organisation."),
    (r"may not write", "_form", T["vi"]["no_write"], T["en"]["no_write"]),
    (r"admin may not deactivate themselves", "_form", "Quản trị viên không tự khóa tài khoản của mình được;"
     " một quản trị viên khác của đơn vị có thể làm việc này.", "An admin may not deactivate themselves; another"
     " admin of the organisation may."),
    (r"recall reason holds the control character (U\+[0-9A-F]+)", "reason",
     "Lý do chứa ký tự điều khiển {0}: chỉ ghi chữ thường.",
     "The reason holds the control character {0}: write plain text."),
    (r"already under open recall #(\d+)", "_form", "Lô này đã nằm trong lệnh thu hồi #{0} đang mở.",
     "This lot is already under open recall #{0}."),
    # sharing grants (privacy.grants), before the general "in the future" below
    (r"expires_at must be in the future and at most a year ahead", "until",
     "Ngày kết thúc phải sau hôm nay và không quá một năm tới.",
     "The end date must be after today and at most a year ahead."),
    (r"lot \d+ is not one of your products nor one your organisation owns or holds", "lot_id",
     "Lô này không phải của sản phẩm đơn vị bạn, và đơn vị bạn không sở hữu hay đang giữ lô này.",
     "This lot is not of your products, and your organisation neither owns nor holds it."),
    (r"organisation \d+ is not another organisation", "grantee_org_id",
     "Hãy chọn một đơn vị khác (không phải đơn vị bạn).", "Choose another organisation (not your own)."),
    (r"lot \d+ is already shared with organisation \d+ until", "grantee_org_id",
     "Lô này đang được chia sẻ với đơn vị này (xem danh sách ở trên); muốn đổi ngày kết thúc, hãy thu hồi lần"
     " chia sẻ đó trước.",
     "This lot is already shared with this organisation (see the list above); to change the end date, revoke"
     " that grant first."),
    (r"only the organisation that gave a grant may revoke it", "_form",
     "Chỉ đơn vị đã chia sẻ mới thu hồi được.", "Only the organisation that shared may revoke."),
    (r"^grant \d+ not found", "_form", "Không tìm thấy lần chia sẻ này.", "This grant was not found."),
    # an id no list of the page offers (another organisation's, or one gone since the page was shown)
    (r"^(?:lot|place|member|product) \d+ not found", "_form",
     "Không tìm thấy mục đã chọn (có thể đã thay đổi): hãy tải lại trang và chọn lại.",
     "The chosen item was not found (it may have changed): reload the page and choose again."),
    # a year typed short ("0026", "1026"): the zone's offset before 1906 is local mean time (+07:06:30),
    # which no EPCIS date-time can carry, so the schema refuses it before the time rules below see it
    (r"eventTime:? '(\d{4,})-(\d\d)-(\d\d)T[^']*' is not an ISO 8601 date-time", "time",
     "Thời gian ngày {2}/{1}/{0} không hợp lệ: hãy kiểm tra lại năm.",
     "The date {2}/{1}/{0} is not valid: check the year."),
    (r"dated before|before its lot's commissioning|implausibly old|in the future", "time",
     "Thời gian không hợp lệ (trước ngày tạo lô hoặc ở tương lai).",
     "Invalid time (before the lot was created, or in the future)."),
    (r"already have a place with internal id", "internal_id", "Mã nội bộ này đã có.", "This internal id exists."),
    (r"already registered|already exists|already taken", "_form", "Đã tồn tại.", "Already exists."),
    (r"wrong check digit: expected (\d)", "gtin",
     "Sai số kiểm tra: phải là {0}.", "Wrong check digit: should be {0}."),
]  # fmt: skip

_PYDANTIC = {
    "missing": "required", "float_parsing": "not_number", "int_parsing": "not_number", "float_type": "not_number",
    "string_too_long": "too_long", "string_pattern_mismatch": "bad_format", "greater_than": "must_be_positive",
    "less_than_equal": "too_large", "greater_than_equal": "must_be_positive", "datetime_from_date_parsing": "bad_time",
    "datetime_parsing": "bad_time", "date_from_datetime_parsing": "bad_time", "date_parsing": "bad_time",
    "enum": "bad_format", "literal_error": "bad_format", "string_too_short": "required",
    "too_short": "required", "too_long": "too_long",  # lists (a code's markets, a recall's lots)
}  # fmt: skip


def _known(message: str, lang: str) -> tuple[str, str] | None:
    """(field, words) of a refusal this module knows."""
    for pattern, field, vi, en, *worded in _DOMAIN:
        m = re.search(pattern, message)
        if m:
            groups = worded[0](m.groups(), lang) if worded else m.groups()
            return field, (vi if lang == "vi" else en).format(*groups)
    return None


def from_domain(exc: DomainError, lang: str, default_field: str = "_form") -> Errors:
    known = _known(exc.message, lang)
    if known:
        return {known[0] if known[0] != "_form" else default_field: known[1]}
    if isinstance(exc.details, dict) and isinstance(exc.details.get("field"), str):
        default_field = exc.details["field"]
    prefix = T[lang]["not_saved"]
    return {default_field: f"{prefix}: {exc.message}"}


def from_validation(exc: ValidationError, lang: str) -> Errors:
    out: Errors = {}
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ())]
        field = loc[0] if loc else "_form"
        key = _PYDANTIC.get(str(e.get("type")))
        ctx = e.get("ctx") or {}
        if e.get("type") == "string_too_short" and e.get("input") and int(ctx.get("min_length", 1)) > 1:
            out.setdefault(field, T[lang]["too_short_n"].format(n=ctx["min_length"]))  # given, but too short
            continue
        if key:
            out.setdefault(field, T[lang][key])
            continue
        msg = str(e.get("msg", ""))
        # DiaryEntry: "spraying needs product, dose" (field names only: "Polygon ring 0: needs at least
        # 4 positions" is a sentence, and its words as field names hid the refusal from the page)
        needs = re.search(r"\bneeds (\w+(?:, \w+)*)$", msg)
        if needs:
            for f in needs.group(1).split(", "):
                out.setdefault(f.strip(), T[lang]["required"])
            continue
        known = _known(msg, lang)
        if known and field == "_form" and known[0] != "_form":
            field = known[0]  # a model-level rule names its own field (valid_until before valid_from)
        out.setdefault(field, known[1] if known else msg.removeprefix("Value error, "))
    return out
