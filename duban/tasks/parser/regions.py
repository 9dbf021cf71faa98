"""Regions a measure names: Inner Mongolia 盟市 and 旗县级 units, with context rules on top of the registry.

The registry finds raw mentions (including groups such as 呼包鄂); this module drops the mentions that are
not places where the measure applies: names inside 《…》, a short name that is part of a natural feature
("呼伦贝尔草原", "额尔古纳河", "呼伦贝尔、科尔沁、阿拉善天然草原"), of a product brand ("赤峰小米") or of a
named model ("磴口模式"). Zone, facility and section names that carry a unit's name stay
("鄂托克经济开发区", "呼和浩特大黑河大入黄口"). Each unit is reported once, by its first surface form.
"""

from __future__ import annotations

import re

from duban.tasks.parser.textview import book_title_spans, in_spans, search_view
from duban.tasks.registry import Hit, Registry

_FULL_SUFFIX = ("盟", "市", "旗", "县", "区")
_AREA_FEATURES = r"草原|大草原|草甸|沙地|沙漠|荒漠|湿地|高原|盆地|平原|林区|界河|河流|水系|水库|水利枢纽|湖泊"
# A short name directly followed by one of these is a feature or product named after the place.
_DIRECT_RE = re.compile(
    rf"^(?:{_AREA_FEATURES}"
    r"|河(?!套)|湖|江|岭|山(?![区市县旗])|水库"
    r"|小米|大米|杂粮|荞麦|马铃薯|土豆|葡萄|羊(?!场)|牛(?!场)|驼|绒|肉|奶|乳|酒|瓜|向日葵|葵花"
    r"|模式|经验|精神|文化|品牌)"
)
# "呼伦贝尔、科尔沁、阿拉善天然草原": a list of names that together qualify an area feature.
_CHAIN_RE = re.compile(
    r"^(?:[、，,和及与\-—－~～]{1,2}[\u4e00-\u9fff]{1,4}?)*?(?:等)?(?:天然|大中型|大型|中型|小型|大|国家级)?"
    rf"(?:{_AREA_FEATURES})(?!区)"
)
# "锡林郭勒浑善达克沙地": a short name prefixed to a named sandland, desert or grassland.
_PREFIX_RE = re.compile(r"^[\u4e00-\u9fff]{1,5}?(?:沙地|沙漠|草原)(?![区带])")


def extract_regions(text: str, registry: Registry) -> list[str]:
    """Regions the text names, as written, in order of first appearance, one per unit (or group)."""
    view = search_view(text)
    books = book_title_spans(view)
    seen: set[str] = set()
    out: list[str] = []
    for hit in sorted(registry.find_regions(text), key=lambda h: h.start):
        if hit.code in seen or in_spans(hit.start, books) or _is_feature(view, hit):
            continue
        seen.add(hit.code)
        out.append(hit.surface)
    return out


def _is_feature(view: str, hit: Hit) -> bool:
    """Whether a mention is part of a natural feature, product or model name rather than a place."""
    if view[hit.start : hit.end].endswith(_FULL_SUFFIX) or hit.end - hit.start < 2:
        return False
    after = view[hit.end : hit.end + 40]
    return bool(_DIRECT_RE.match(after) or _CHAIN_RE.match(after) or _PREFIX_RE.match(after))
