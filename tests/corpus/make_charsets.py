#!/usr/bin/env python3
"""Writes tests/corpus/charsets/*.eml and their .expected.json.

Every body and header is encoded with the charset it declares, which is
why these mails are generated rather than typed. Run from anywhere:
    python3 tests/corpus/make_charsets.py
"""
import base64, json, os, quopri, urllib.parse, zlib, struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "charsets")
OUR = "<sr100001.1.abc123def456@example.test>"


def ew(s, cs, enc="B", maxbytes=36):
    """RFC 2047 encoded words for s in charset cs, folded (CRLF SP)."""
    words, cur = [], b""
    if cs.lower() == "iso-2022-jp":
        # each word must be a complete ISO-2022-JP sequence: split on characters
        chunks, c = [], ""
        for ch in s:
            if len((c + ch).encode(cs)) > maxbytes and c:
                chunks.append(c); c = ""
            c += ch
        chunks.append(c)
        words = [x.encode(cs) for x in chunks]
    else:
        for ch in s:
            b = ch.encode(cs)
            if cur and len(cur) + len(b) > maxbytes:
                words.append(cur); cur = b""
            cur += b
        words.append(cur)
    out = []
    for w in words:
        if enc == "B":
            out.append("=?%s?B?%s?=" % (cs, base64.b64encode(w).decode()))
        else:
            q = "".join("_" if b == 32 else chr(b) if (b < 128 and (chr(b).isalnum() or chr(b) in "!*+-/")) else "=%02X" % b for b in w)
            out.append("=?%s?Q?%s?=" % (cs, q))
    return "\r\n ".join(out)


def enc_body(text, cs, cte):
    data = text.replace("\r\n", "\n").encode(cs)
    if cte == "quoted-printable":
        return quopri.encodestring(data).replace(b"\n", b"\r\n")
    if cte == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    return data.replace(b"\n", b"\r\n")


def b64file(data):
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def hdrs(lines):
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def quoted(text):
    return "\n".join("> " + l if l else ">" for l in text.split("\n"))


def write(name, raw, exp):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".eml"), "wb") as f:
        f.write(raw)
    with open(os.path.join(OUT, name + ".expected.json"), "w", encoding="utf-8") as f:
        json.dump(exp, f, ensure_ascii=False, indent=2)
        f.write("\n")


def common(frm, subj_hdr, date, mid, extra=()):
    return ["Return-Path: <%s>" % frm.split("<")[-1].rstrip(">"),
            "Received: from mx.sender.example (mx.sender.example [203.0.113.25])\r\n\tby mx.example.test (Postfix) with ESMTPS id 3B1C2D4E5F\r\n\tfor <support@example.test>; %s" % date,
            "From: " + frm, "To: Example Support <support@example.test>", "Subject: " + subj_hdr,
            "Date: " + date, "Message-ID: " + mid, "In-Reply-To: " + OUR, "References: " + OUR,
            "MIME-Version: 1.0"] + list(extra)


def simple(name, *, cs, cte, frm_name, addr, subject, new, history, contains, excludes, lang, client,
           mailer=(), params="", subj_enc="B", subj_cs=None, name_enc="B", date_n=1, clean=None):
    subj_cs = subj_cs or cs
    frm = "%s <%s>" % (ew(frm_name, subj_cs, name_enc, 60) if not frm_name.isascii() else frm_name, addr)
    sh = ew(subject, subj_cs, subj_enc) if not subject.isascii() else subject
    date = "Thu, 5 Mar 2026 %02d:15:00 +0100" % (8 + date_n)
    body_text = new + "\n\n" + history
    h = common(frm, sh, date, "<cs%03d.%s@%s>" % (date_n, name.replace("_", "-"), addr.split("@")[1]), mailer)
    h += ['Content-Type: text/plain; charset="%s"%s' % (cs, "; " + params if params else "")]
    if cte:
        h += ["Content-Transfer-Encoding: " + cte]
    raw = hdrs(h) + b"\r\n" + enc_body(body_text, cs, cte)
    exp = {"class": "human", "token": 100001, "clean_subject": clean,
           "new_text_contains": contains, "new_text_excludes": excludes, "attachments": []}
    if client: exp["client"] = client
    if lang: exp["language"] = lang
    write(name, raw, exp)


ACK = """Dear {n},

Thank you for contacting Example Support. We have opened support request
SR#100001 for your message "{s}" (priority P2).

Kind regards,
Example Support"""

TB = ["User-Agent: Mozilla Thunderbird"]

# ---------------------------------------------------------------- 8-bit European
simple("iso-8859-1_de_quoted_printable", cs="iso-8859-1", cte="quoted-printable", frm_name="Jürgen Müller",
       addr="j.mueller@kunde.example", subject="AW: [SR#100001] Störung: Drucker im Großraumbüro",
       new="Hallo,\n\ndie Störung besteht weiterhin, das Gerät piept ununterbrochen.\nDer Hausmeister hat den Stecker gezogen; bitte schicken Sie jemanden vorbei.\n\nGrüße\nJürgen Müller",
       history="Am 03.03.26 um 10:00 schrieb Example Support:\n" + quoted("Sehr geehrter Herr Müller,\n\nwir haben die Supportanfrage SR#100001 eröffnet.\n\nMit freundlichen Grüßen\nExample Support"),
       contains=["die Störung besteht weiterhin", "bitte schicken Sie jemanden vorbei"], excludes=["wir haben die Supportanfrage", "schrieb Example Support"],
       lang="de", client="thunderbird", mailer=TB, subj_enc="Q", name_enc="Q", date_n=1, clean="Störung: Drucker im Großraumbüro")

simple("iso-8859-2_cs_8bit", cs="iso-8859-2", cte="8bit", frm_name="Jiří Dvořák",
       addr="jiri.dvorak@zakaznik.example", subject="Re: [SR#100001] Tiskárna hlásí chybu",
       new="Dobrý den,\n\ntiskárna po výměně tonerů stále hlásí chybu E-451.\nPosílám fotografii displeje, číslo zařízení je ČZ-2231.\n\nS pozdravem\nJiří Dvořák",
       history="On 03/03/2026 10:00, Example Support wrote:\n" + quoted(ACK.format(n="Jiří Dvořák", s="Tiskárna hlásí chybu")),
       contains=["stále hlásí chybu E-451", "číslo zařízení je ČZ-2231"], excludes=["We have opened support request"],
       lang=None, client="thunderbird", mailer=TB, subj_enc="Q", name_enc="Q", date_n=2, clean="Tiskárna hlásí chybu")

simple("iso-8859-15_fr_euro_sign", cs="iso-8859-15", cte="8bit", frm_name="Amélie Durand",
       addr="amelie.durand@client.example", subject="Re: [SR#100001] Devis réparation",
       new="Bonjour,\n\nle devis de 1 250 € HT nous convient, merci de lancer la réparation.\nL'œuvre du technicien devra être facturée à notre filiale de Lyon.\n\nCordialement,\nAmélie Durand",
       history="Le 03/03/2026 à 10:00, Example Support a écrit :\n" + quoted(ACK.format(n="Amélie Durand", s="Devis réparation")),
       contains=["le devis de 1 250 € HT nous convient", "L'œuvre du technicien"], excludes=["We have opened support request"],
       lang="fr", client="thunderbird", mailer=TB, subj_enc="Q", name_enc="Q", date_n=3, clean="Devis réparation")

simple("windows-1250_pl_outlook_odp", cs="windows-1250", cte="quoted-printable", frm_name="Łukasz Wójcik",
       addr="lukasz.wojcik@klient.example", subject="Odp: [SR#100001] Drukarka nie drukuje",
       new="Dzień dobry,\n\ndrukarka znów zgłasza błąd E-451 po wymianie bębna.\nProszę o pilny kontakt, bo księgowość nie może drukować faktur.\n\nPozdrawiam\nŁukasz Wójcik",
       history="-----Original Message-----\nFrom: Example Support <support@example.test>\nSent: Tuesday, March 3, 2026 10:00 AM\nTo: Łukasz Wójcik <lukasz.wojcik@klient.example>\nSubject: [SR#100001] Drukarka nie drukuje\n\n" + ACK.format(n="Łukasz Wójcik", s="Drukarka nie drukuje"),
       contains=["drukarka znów zgłasza błąd E-451", "księgowość nie może drukować faktur"], excludes=["We have opened support request", "-----Original Message-----"],
       lang=None, client="outlook", mailer=["X-Mailer: Microsoft Outlook 16.0", "Content-Language: pl"], subj_enc="Q", name_enc="Q", date_n=4, clean="Drukarka nie drukuje")

simple("windows-1252_en_smart_quotes", cs="windows-1252", cte="quoted-printable", frm_name="Seán O’Brien",
       addr="sean.obrien@customer.example", subject="RE: [SR#100001] Printer on fire – again",
       new="Hi,\n\nThe “quick fix” from last week didn’t hold – it’s smoking again…\nThe repair quote of €1,250 is approved; please go ahead.\n\nThanks,\nSeán",
       history="-----Original Message-----\nFrom: Example Support <support@example.test>\nSent: Tuesday, March 3, 2026 10:00 AM\nTo: Seán O’Brien <sean.obrien@customer.example>\nSubject: [SR#100001] Printer on fire – again\n\n" + ACK.format(n="Seán O’Brien", s="Printer on fire – again"),
       contains=["The “quick fix” from last week didn’t hold", "quote of €1,250 is approved"], excludes=["We have opened support request"],
       lang="en", client="outlook", mailer=["X-Mailer: Microsoft Outlook 16.0", "Content-Language: en-IE"], subj_enc="Q", name_enc="Q", date_n=5, clean="Printer on fire – again")

simple("koi8-r_ru_8bit", cs="koi8-r", cte="8bit", frm_name="Иван Петров",
       addr="ivan.petrov@klient-ru.example", subject="Re: [SR#100001] Принтер не печатает",
       new="Добрый день!\n\nПринтер снова показывает ошибку E-451 после замены картриджа.\nПрошу прислать инженера до пятницы.\n\nС уважением,\nИван Петров",
       history="* Example Support <support@example.test> [2026-03-03 10:00]:\n" + quoted(ACK.format(n="Ivan Petrov", s="Принтер не печатает")),
       contains=["Принтер снова показывает ошибку E-451", "Прошу прислать инженера до пятницы"], excludes=["We have opened support request"],
       lang=None, client="mutt", mailer=["User-Agent: Mutt/2.2.12 (2023-09-09)"], date_n=6, clean="Принтер не печатает")

# ---------------------------------------------------------------- CJK legacy charsets
JA_NEW = "Example Support 御中\n\nお世話になっております。\n今朝からプリンターに再びエラー E-451 が表示されています。\n金曜日までに技術者を派遣していただけますでしょうか。\n\n山田 太郎"
simple("iso-2022-jp_ja_7bit", cs="iso-2022-jp", cte="7bit", frm_name="山田 太郎",
       addr="taro.yamada@kokyaku.example", subject="Re: [SR#100001] プリンターが印刷できません",
       new=JA_NEW,
       history="2026/03/03 10:00 に Example Support さんは書きました:\n" + quoted(ACK.format(n="Taro Yamada", s="プリンターが印刷できません")),
       contains=["再びエラー E-451 が表示されています", "技術者を派遣していただけますでしょうか"], excludes=["We have opened support request"],
       lang="ja", client="thunderbird", mailer=TB, date_n=7, clean="プリンターが印刷できません")

simple("shift_jis_ja_base64", cs="shift_jis", cte="base64", frm_name="鈴木 一郎",
       addr="ichiro.suzuki@kokyaku.example", subject="返信: [SR#100001] 複合機の紙詰まり",
       new="お世話になっております。鈴木です。\n\n複合機の紙詰まりが本日も三回発生しました。\nトレイ２の給紙ローラーの交換をお願いできますでしょうか。\n\n鈴木",
       history="-----Original Message-----\nFrom: Example Support <support@example.test>\nSent: Tuesday, March 3, 2026 10:00 AM\nSubject: [SR#100001] 複合機の紙詰まり\n\n" + ACK.format(n="Ichiro Suzuki", s="複合機の紙詰まり"),
       contains=["複合機の紙詰まりが本日も三回発生しました", "給紙ローラーの交換をお願いできますでしょうか"], excludes=["We have opened support request"],
       lang="ja", client="other", mailer=["X-Mailer: Becky! ver. 2.81.06 [ja]"], date_n=8, clean="複合機の紙詰まり")

simple("gb2312_zh_foxmail_base64", cs="gb2312", cte="base64", frm_name="王芳",
       addr="wang.fang@kehu.example", subject="回复：[SR#100001] 打印机无法打印",
       new="您好，\n\n打印机今天又卡纸了三次，错误代码仍然是 E-451。\n请尽快安排工程师上门检修。\n\n王芳",
       history="------------------ 原始邮件 ------------------\n发件人: \"Example Support\" <support@example.test>;\n发送时间: 2026年3月3日(星期二) 上午10:00\n收件人: \"王芳\" <wang.fang@kehu.example>;\n主题: [SR#100001] 打印机无法打印\n\n" + ACK.format(n="Wang Fang", s="打印机无法打印"),
       contains=["打印机今天又卡纸了三次", "请尽快安排工程师上门检修"], excludes=["We have opened support request"],
       lang="zh", client="other", mailer=["X-Mailer: Foxmail 7.2.25.228[cn]"], date_n=9, clean="打印机无法打印")

simple("gbk_zh_8bit_rare_chars", cs="gbk", cte="8bit", frm_name="王喆",
       addr="wang.zhe@kehu.example", subject="答复: [SR#100001] 打印机无法打印",
       new="您好，\n\n我是王喆，接替王芳跟进这个问题。\n打印机的定影器温度异常，请确认备件型号。\n\n王喆",
       history="发件人: Example Support <support@example.test>\n发送时间: 2026年3月3日 10:00\n收件人: 王芳 <wang.fang@kehu.example>\n主题: [SR#100001] 打印机无法打印\n\n" + ACK.format(n="Wang Fang", s="打印机无法打印"),
       contains=["我是王喆，接替王芳跟进这个问题", "请确认备件型号"], excludes=["We have opened support request"],
       lang="zh", client="outlook", mailer=["X-Mailer: Microsoft Outlook 16.0", "Content-Language: zh-CN"], date_n=10, clean="打印机无法打印")

simple("big5_zh_tw_base64", cs="big5", cte="base64", frm_name="陳志明",
       addr="chen.zhiming@kehu-tw.example", subject="回覆: [SR#100001] 印表機無法列印",
       new="您好，\n\n印表機今天早上又出現錯誤 E-451。\n請問工程師何時可以到場？\n\n陳志明",
       history="寄件者: Example Support <support@example.test>\n寄件日期: 2026年3月3日 上午 10:00\n收件者: 陳志明 <chen.zhiming@kehu-tw.example>\n主旨: [SR#100001] 印表機無法列印\n\n" + ACK.format(n="Chen Zhiming", s="印表機無法列印"),
       contains=["印表機今天早上又出現錯誤 E-451", "請問工程師何時可以到場"], excludes=["We have opened support request"],
       lang="zh", client="outlook", mailer=["X-Mailer: Microsoft Outlook 16.0", "Content-Language: zh-TW"], date_n=11, clean="印表機無法列印")

# ---------------------------------------------------------------- format=flowed
FLOWED = ("Hallo zusammen, \n\nich habe das Gerät wie besprochen vom Netz genommen und nach zehn Minuten "
          "\nwieder eingeschaltet; die Fehlermeldung E-451 erscheint trotzdem sofort \nwieder. \n"
          "Bitte teilen Sie mir mit, ob wir das Gerät einschicken sollen.\n\n-- \nJürgen Müller\nHaustechnik\n\n"
          "Am 03.03.26 um 10:00 schrieb Example Support:\n> Sehr geehrter Herr Müller,\n>\n"
          "> bitte trennen Sie das Gerät für zehn Minuten vom Netz und schalten Sie \n> es danach wieder ein.\n>\n> Mit freundlichen Grüßen\n> Example Support\n")
h = common("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <j.mueller@kunde.example>", "Re: [SR#100001] Fehler E-451 nach Neustart",
           "Thu, 5 Mar 2026 20:15:00 +0100", "<cs012.flowed@kunde.example>", TB + ["Content-Language: de-DE"])
h += ['Content-Type: text/plain; charset=UTF-8; format=flowed; delsp=no', "Content-Transfer-Encoding: 8bit"]
write("utf-8_de_format_flowed", hdrs(h) + b"\r\n" + FLOWED.replace("\n", "\r\n").encode("utf-8"),
      {"class": "human", "token": 100001, "clean_subject": "Fehler E-451 nach Neustart",
       "new_text_contains": ["nach zehn Minuten wieder eingeschaltet", "die Fehlermeldung E-451 erscheint trotzdem sofort wieder"],
       "new_text_excludes": ["bitte trennen Sie das Gerät", "Haustechnik"], "attachments": [], "client": "thunderbird", "language": "de"})

# ---------------------------------------------------------------- attachments
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
def png1x1():
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
PNG = png1x1()
LOG = "2026-03-04 07:58:12 E-451 fuser overheat 231°C\n2026-03-04 08:02:40 E-451 fuser overheat 229°C\n".encode("utf-8")


def mixed(name, frm, subject, text, atts, exp, extra=(), n=20, ctext=None):
    b = "----=_Part_%d_%d.1741165200000" % (n, n * 7919)
    h = common(frm, subject, "Thu, 5 Mar 2026 %02d:40:00 +0100" % (n - 10), "<att%03d@%s>" % (n, frm.split("@")[1].rstrip(">")), extra)
    h += ['Content-Type: multipart/mixed;\r\n\tboundary="%s"' % b]
    out = hdrs(h) + b"\r\nThis is a multi-part message in MIME format.\r\n"
    out += ("--%s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" % b).encode() + enc_body(text, "utf-8", "quoted-printable") + b"\r\n"
    for head, data in atts:
        out += ("--%s\r\n" % b).encode() + head.replace("\n", "\r\n").encode("ascii") + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64file(data)
    out += ("--%s--\r\n" % b).encode()
    write(name, out, exp)


DE_TEXT = "Guten Tag,\n\nanbei der Bericht vom März und das Fehlerprotokoll des Druckers.\nDie Fehler treten jeden Morgen gegen 8 Uhr auf.\n\nMit freundlichen Grüßen\nJürgen Müller\n\nAm 03.03.26 um 10:00 schrieb Example Support:\n> Bitte senden Sie uns das Fehlerprotokoll.\n"
mixed("rfc2231_utf8_umlaut_filenames",
      "=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <j.mueller@kunde.example>", "Re: [SR#100001] Fehlerprotokoll", DE_TEXT,
      [("Content-Type: application/pdf;\n\tname*=UTF-8''Bericht_M%C3%A4rz.pdf\nContent-Disposition: attachment;\n\tfilename*=UTF-8''Bericht_M%C3%A4rz.pdf", PDF),
       ("Content-Type: text/plain; charset=UTF-8\nContent-Disposition: attachment;\n\tfilename*0*=UTF-8''Fehlerprotokoll_Drucker_Gro%C3%9F;\n\tfilename*1*=raumb%C3%BCro_2026-03-04.log", LOG)],
      {"class": "human", "token": 100001, "clean_subject": "Fehlerprotokoll",
       "new_text_contains": ["anbei der Bericht vom März", "jeden Morgen gegen 8 Uhr"], "new_text_excludes": ["Bitte senden Sie uns das Fehlerprotokoll"],
       "attachments": ["Bericht_März.pdf", "Fehlerprotokoll_Drucker_Großraumbüro_2026-03-04.log"], "client": "thunderbird", "language": "de"},
      TB + ["Content-Language: de-DE"], n=21)

JA_CJK = "エラーログ_2026年3月.txt"
mixed("rfc2231_cjk_filename_continuations",
      "=?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro.yamada@kokyaku.example>", "Re: [SR#100001] =?UTF-8?B?44Ko44Op44O844Ot44Kw?=",
      "お世話になっております。\n\nエラーログと設定画面のスクリーンショットを添付いたします。\nご確認のほどよろしくお願いいたします。\n\n山田\n",
      [("Content-Type: text/plain; charset=UTF-8\nContent-Disposition: attachment;\n\tfilename*0*=UTF-8''" + urllib.parse.quote(JA_CJK[:6].encode()) + ";\n\tfilename*1*=" + urllib.parse.quote(JA_CJK[6:].encode()), LOG),
       ("Content-Type: image/png\nContent-Disposition: attachment;\n\tfilename*=utf-8'ja'" + urllib.parse.quote("設定画面.png".encode()), PNG)],
      {"class": "human", "token": 100001, "clean_subject": "エラーログ",
       "new_text_contains": ["エラーログと設定画面のスクリーンショットを添付いたします"],
       "attachments": [JA_CJK, "設定画面.png"], "client": "thunderbird", "language": "ja"},
      TB + ["Content-Language: ja"], n=22)

mixed("rfc2231_iso-8859-1_filename",
      "Amelie Durand <amelie.durand@client.example>", "Re: [SR#100001] Rapport d'intervention",
      "Bonjour,\n\nci-joint le rapport d'intervention signé par notre responsable.\nMerci de le transmettre au technicien.\n\nAmélie\n",
      [("Content-Type: application/pdf\nContent-Disposition: attachment;\n\tfilename*=iso-8859-1'fr'Rapport_d%27intervention_sign%E9.pdf", PDF)],
      {"class": "human", "token": 100001, "clean_subject": "Rapport d'intervention",
       "new_text_contains": ["ci-joint le rapport d'intervention"], "attachments": ["Rapport_d'intervention_signé.pdf"],
       "client": "mutt", "language": "fr"}, ["User-Agent: Mutt/2.2.12 (2023-09-09)"], n=23)

mixed("encoded_word_filenames",
      "=?UTF-8?B?546L6Iqz?= <wang.fang@kehu.example>", "=?UTF-8?B?5Zue5aSN77ya?= [SR#100001] =?UTF-8?B?6ZSZ6K+v5pel5b+X?=",
      "您好，\n\n附件是错误日志和打印机的照片，请查收。\n\n王芳\n",
      [("Content-Type: text/plain; charset=UTF-8;\n\tname=\"=?UTF-8?B?6ZSZ6K+v5pel5b+XXzIwMjYwMzA0LnR4dA==?=\"\nContent-Disposition: attachment;\n\tfilename=\"=?UTF-8?B?6ZSZ6K+v5pel5b+XXzIwMjYwMzA0LnR4dA==?=\"", LOG),
       ("Content-Type: image/png;\n\tname=\"=?UTF-8?Q?St=C3=B6rungsbild_Drucker.png?=\"\nContent-Disposition: attachment;\n\tfilename=\"=?UTF-8?Q?St=C3=B6rungsbild_Drucker.png?=\"", PNG)],
      {"class": "human", "token": 100001, "clean_subject": "错误日志",
       "new_text_contains": ["附件是错误日志和打印机的照片"], "attachments": ["错误日志_20260304.txt", "Störungsbild Drucker.png"],
       "client": "other", "language": "zh"}, ["X-Mailer: Foxmail 7.2.25.228[cn]"], n=24)

# winmail.dat: a TNEF stream (signature 0x223E9F78, key, then attributes), kept as an attachment.
TNEF = struct.pack("<IH", 0x223E9F78, 0x1234) + b"\x01\x06\x90\x08\x00\x04\x00\x00\x00\x00\x00\x01\x00\x01\x00" + b"\x01\x07\x90\x06\x00\x08\x00\x00\x00\xe4\x04\x00\x00\x00\x00\x00\x00\xe8\x00" + bytes(range(256)) * 4
mixed("winmail_dat_tnef",
      "Jane Doe <jane.doe@customer.example>", "RE: [SR#100001] Printer on fire",
      "Hi,\n\nPlease find the service report attached (our Outlook may wrap it as winmail.dat, sorry).\nThe printer is back in service since this morning.\n\nJane\n\n-----Original Message-----\nFrom: Example Support <support@example.test>\nSent: Tuesday, March 3, 2026 10:00 AM\nSubject: [SR#100001] Printer on fire\n\nPlease send us the service report.\n",
      [("Content-Type: application/ms-tnef; name=\"winmail.dat\"\nContent-Disposition: attachment; filename=\"winmail.dat\"", TNEF)],
      {"class": "human", "token": 100001, "clean_subject": "Printer on fire",
       "new_text_contains": ["The printer is back in service since this morning"], "new_text_excludes": ["Please send us the service report"],
       "attachments": ["winmail.dat"], "client": "outlook", "language": "en"},
      ["X-Mailer: Microsoft Outlook 16.0", "X-MS-TNEF-Correlator: 00000000F1E2D3C4B5A69788796A5B4C3D2E1F0007006B1E9C3A5F2D4B8E", "Thread-Topic: [SR#100001] Printer on fire"], n=25)

# multipart/related: HTML with an inline image (cid:), plus the plain alternative.
b1, b2 = "_004_AM0PR04MB6547INLINE_", "_000_AM0PR04MB6547INLINE_"
HTML = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body lang=\"DE\">"
        "<p class=\"MsoNormal\">Hallo,</p><p class=\"MsoNormal\">so sieht die Anzeige am Drucker seit heute Morgen aus:</p>"
        "<p class=\"MsoNormal\"><img width=\"320\" height=\"240\" src=\"cid:image001.png@01DC8B2A.5F3E1C20\" alt=\"Anzeige\"></p>"
        "<p class=\"MsoNormal\">Viele Grüße<br>Jürgen Müller</p>"
        "<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\"><p class=\"MsoNormal\"><b>Von:</b> Example Support &lt;support@example.test&gt;<br><b>Gesendet:</b> Dienstag, 3. März 2026 10:00<br><b>Betreff:</b> [SR#100001] Anzeige am Drucker</p></div>"
        "<p class=\"MsoNormal\">Können Sie uns ein Foto der Anzeige schicken?</p></body></html>")
PLAIN = "Hallo,\n\nso sieht die Anzeige am Drucker seit heute Morgen aus:\n\n[cid:image001.png@01DC8B2A.5F3E1C20]\n\nViele Grüße\nJürgen Müller\n\nVon: Example Support <support@example.test>\nGesendet: Dienstag, 3. März 2026 10:00\nBetreff: [SR#100001] Anzeige am Drucker\n\nKönnen Sie uns ein Foto der Anzeige schicken?\n"
h = common("=?utf-8?B?SsO8cmdlbiBNw7xsbGVy?= <j.mueller@kunde.example>", "AW: [SR#100001] Anzeige am Drucker",
           "Thu, 5 Mar 2026 17:05:00 +0100", "<AM0PR04MB6547INLINE0001@AM0PR04MB6547.eurprd04.prod.outlook.com>",
           ["Thread-Topic: [SR#100001] Anzeige am Drucker", "Content-Language: de-DE", "X-MS-Has-Attach: yes"])
h += ['Content-Type: multipart/related;\r\n\tboundary="%s";\r\n\ttype="multipart/alternative"' % b1]
raw = hdrs(h) + b"\r\n"
raw += ("--%s\r\nContent-Type: multipart/alternative;\r\n\tboundary=\"%s\"\r\n\r\n" % (b1, b2)).encode()
raw += ("--%s\r\nContent-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" % b2).encode() + enc_body(PLAIN, "utf-8", "quoted-printable") + b"\r\n"
raw += ("--%s\r\nContent-Type: text/html; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" % b2).encode() + enc_body(HTML, "utf-8", "quoted-printable") + b"\r\n"
raw += ("--%s--\r\n\r\n--%s\r\nContent-Type: image/png; name=\"image001.png\"\r\nContent-Description: image001.png\r\nContent-Disposition: inline; filename=\"image001.png\"; size=%d\r\nContent-ID: <image001.png@01DC8B2A.5F3E1C20>\r\nContent-Transfer-Encoding: base64\r\n\r\n" % (b2, b1, len(PNG))).encode() + b64file(PNG)
raw += ("--%s--\r\n" % b1).encode()
write("multipart_related_inline_image", raw,
      {"class": "human", "token": 100001, "clean_subject": "Anzeige am Drucker",
       "new_text_contains": ["so sieht die Anzeige am Drucker seit heute Morgen aus"], "new_text_excludes": ["Können Sie uns ein Foto der Anzeige schicken"],
       "attachments": ["image001.png"], "client": "outlook", "language": "de"})

# UTF-8 HTML-only, base64, Spanish, with an Outlook divRplyFwdMsg block.
HTML_ES = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body dir=\"ltr\">"
           "<div>Buenos días:</div><div>La impresora sigue sin funcionar después de la actualización.</div><div>¿Podrían llamarme mañana por la mañana?</div><div>Carlos</div>"
           "<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\"><div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri, sans-serif\" style=\"font-size:11pt\" color=\"#000000\">"
           "<b>De:</b> Example Support &lt;support@example.test&gt;<br><b>Enviado:</b> martes, 3 de marzo de 2026 10:00<br><b>Para:</b> Carlos Martínez<br><b>Asunto:</b> [SR#100001] Actualización fallida</font><div>&nbsp;</div></div>"
           "<div>Por favor, instale la actualización 4.2.1 y reinicie el equipo.</div></body></html>")
h = common("=?utf-8?B?Q2FybG9zIE1hcnTDrW5leg==?= <carlos.martinez@cliente-es.example>", "=?utf-8?B?UkU6IFtTUiMxMDAwMDFdIEFjdHVhbGl6YWNpw7NuIGZhbGxpZGE=?=",
           "Thu, 5 Mar 2026 18:00:00 +0100", "<DB9PR05MB8123HTML0001@DB9PR05MB8123.eurprd05.prod.outlook.com>", ["Content-Language: es-ES"])
h += ['Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: base64"]
write("utf-8_es_html_only_base64", hdrs(h) + b"\r\n" + enc_body(HTML_ES, "utf-8", "base64"),
      {"class": "human", "token": 100001, "clean_subject": "Actualización fallida",
       "new_text_contains": ["La impresora sigue sin funcionar después de la actualización"], "new_text_excludes": ["Por favor, instale la actualización 4.2.1"], "attachments": [],
       "client": "outlook", "language": "es"})

# ISO-8859-1 HTML part inside multipart/alternative, Italian (Outlook desktop in Latin-1).
IT_PLAIN = "Buongiorno,\n\nla stampante è di nuovo in funzione, grazie.\nPotete chiudere la richiesta.\n\nGiulia\n\nDa: Example Support <support@example.test>\nInviato: martedì 3 marzo 2026 10:00\nOggetto: [SR#100001] Stampante\n\nLa richiesta è stata risolta?\n"
IT_HTML = "<html><body><p>Buongiorno,</p><p>la stampante è di nuovo in funzione, grazie.</p><p>Potete chiudere la richiesta.</p><p>Giulia</p><div style=\"border-top:solid #E1E1E1 1.0pt\"><p><b>Da:</b> Example Support<br><b>Inviato:</b> martedì 3 marzo 2026 10:00<br><b>Oggetto:</b> [SR#100001] Stampante</p></div><p>La richiesta è stata risolta?</p></body></html>"
b = "_000_VI1PR07MB1234LATIN1_"
h = common("Giulia Rossi <giulia.rossi@cliente.example>", "=?iso-8859-1?Q?R:_[SR#100001]_Stampante?=",
           "Thu, 5 Mar 2026 18:30:00 +0100", "<VI1PR07MB1234LATIN10001@VI1PR07MB1234.eurprd07.prod.outlook.com>", ["Content-Language: it-IT"])
h += ['Content-Type: multipart/alternative;\r\n\tboundary="%s"' % b]
raw = hdrs(h) + b"\r\n"
for ct, t in (("text/plain", IT_PLAIN), ("text/html", IT_HTML)):
    raw += ("--%s\r\nContent-Type: %s; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" % (b, ct)).encode() + enc_body(t, "iso-8859-1", "quoted-printable") + b"\r\n"
raw += ("--%s--\r\n" % b).encode()
write("iso-8859-1_it_alternative", raw,
      {"class": "human", "token": 100001, "clean_subject": "Stampante",
       "new_text_contains": ["la stampante è di nuovo in funzione", "Potete chiudere la richiesta"], "new_text_excludes": ["La richiesta è stata risolta?"], "attachments": [],
       "client": "outlook", "language": "it"})

print("charsets written to", OUT)
