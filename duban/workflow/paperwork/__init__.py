"""Paperwork generated from the data (the 督办单 of a task, the 督办通报 of a period, the 分工方案 of a
plan) as one document model written twice: .docx for editing in WPS/Word, PDF for sending unchanged."""

from __future__ import annotations

from duban.workflow.paperwork.bulletin import bulletin_paper, bulletin_serial, division_paper
from duban.workflow.paperwork.docx_writer import to_docx
from duban.workflow.paperwork.fonts import FontSet, PaperworkUnavailable, font_set
from duban.workflow.paperwork.model import Heading, Paper, Paragraph, Table, chinese_date
from duban.workflow.paperwork.notices import (
    MAX_SELECTION,
    NoticeFacts,
    NoticeNotIssued,
    PaperworkRequestInvalid,
    notice_facts,
    notice_paper,
    office_name,
)
from duban.workflow.paperwork.pdf_writer import to_pdf
from duban.workflow.paperwork.serials import Serial, issue_serials

__all__ = [
    "MAX_SELECTION",
    "FontSet",
    "Heading",
    "NoticeFacts",
    "NoticeNotIssued",
    "Paper",
    "PaperworkRequestInvalid",
    "PaperworkUnavailable",
    "Paragraph",
    "Serial",
    "Table",
    "bulletin_paper",
    "bulletin_serial",
    "chinese_date",
    "division_paper",
    "font_set",
    "issue_serials",
    "notice_facts",
    "notice_paper",
    "office_name",
    "to_docx",
    "to_pdf",
]
