"""Which installed fonts the PDFs use, found through fontconfig (`fc-list`): for each 公文 role the first
family present from a preference list — the offices' own licensed fonts first (仿宋_GB2312, 黑体, 方正小标宋),
then the free ones the project installs (Noto Serif/Sans CJK SC, `fonts-noto-cjk`). None found is a clear
error (503 `paperwork_fonts_missing`), never a PDF of empty boxes."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from duban.workflow.errors import WorkflowError

PREFERENCES: Final[dict[str, tuple[str, ...]]] = {
    # 正文 仿宋: no free simplified FangSong exists in Debian (fonts-cwtex-fs is traditional-only, Big5),
    # so a serif (宋体-like) face stands in for it.
    "body": (
        "仿宋_GB2312",
        "FangSong_GB2312",
        "仿宋",
        "FangSong",
        "Noto Serif CJK SC",
        "Source Han Serif SC",
    ),
    "heading": ("黑体", "SimHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei"),
    "title": ("方正小标宋简体", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC", "Source Han Serif SC"),
    "kai": ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "AR PL UKai CN", "Noto Serif CJK SC"),
}
# Families that are a regular weight only of a face whose bold stands in for 小标宋.
BOLD_TITLE: Final = frozenset({"Noto Serif CJK SC", "Source Han Serif SC"})
INSTALL_HINT: Final = "apt-get install fonts-noto-cjk fontconfig"


class PaperworkUnavailable(WorkflowError):
    """The PDF cannot be made on this server: no Chinese font or no PDF renderer (503)."""

    code = "paperwork_fonts_missing"


@dataclass(frozen=True)
class FontSet:
    """The family chosen for each role."""

    body: str
    heading: str
    title: str
    kai: str

    @property
    def title_weight(self) -> str:
        """Bold when a serif stands in for 小标宋."""
        return "bold" if self.title in BOLD_TITLE else "normal"


def installed_families() -> frozenset[str]:
    """Every family name fontconfig knows for a font covering simplified Chinese."""
    program = shutil.which("fc-list")
    if program is None:
        return frozenset()
    try:
        out = subprocess.run(  # noqa: S603 (a fixed program and arguments)
            [program, ":lang=zh-cn", "family"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(name.strip() for line in out.splitlines() for name in line.split(",") if name.strip())


def choose(families: frozenset[str]) -> FontSet:
    """The first preferred family of each role among `families`; PaperworkUnavailable when a role has none."""
    chosen: dict[str, str] = {}
    for role, wanted in PREFERENCES.items():
        found = next((name for name in wanted if name in families), None)
        if found is None:
            raise PaperworkUnavailable(
                f"服务器未安装可用的中文字体（{'、'.join(wanted[-2:])}），无法生成 PDF；"
                f"请管理员执行：{INSTALL_HINT}",
                f"No Chinese font for the PDF is installed ({', '.join(wanted[-2:])}); run: {INSTALL_HINT}",
                role=role,
            )
        chosen[role] = found
    return FontSet(**chosen)


@lru_cache(maxsize=1)
def font_set() -> FontSet:
    """The fonts of this server (looked up once per process)."""
    return choose(installed_families())
