#!/usr/bin/env python3
"""A tuned, streaming Python converter of an Alma bursar export to the
reference PeopleSoft charge file: the harder of the two comparisons of `go
run ./examples/feesync/internal/convertbench` (the yardstick of issue 17
is the plain one, plain_convert.py, which parses the whole tree).

What it does, and nothing more: xml.etree.ElementTree.iterparse reads the
export element by element (each userExportedFineFeesList is cleared once
handled, so memory stays flat); for every userFineFee it takes the
patron's id, the fee type, the title, the sum and the bursar transaction
id, maps the fee type to the reference item type, the as-of date to the
default calendar's term (Spring 01-01..05-31 "2", Summer 06-01..08-14
"5", Fall 08-15..12-31 "8") and the due date (as-of + 30 days), and
writes the reference layout's fixed-width detail line (113 characters, the business unit blank),
between the header and a trailer with the count and the total. The sum
is copied as written (dd.dd); the total is summed in cents.

It checks nothing that feesync checks (duplicate ids, currencies, bad
amounts, field widths, characters): it is what a district might
write once the plain script ran out of memory. On the generated benchmark file (ASCII, valid) it writes the bytes
`feesync convert alma-export -as-of YYYY-MM-DD` writes (the header carries
the as-of day at midnight).

    python3 elementtree_convert.py EXPORT.xml OUT.dat YYYY-MM-DD
"""
import datetime
import sys
import xml.etree.ElementTree as ET

NS = "{http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans}"
ITEM_TYPES = {
    "OVERDUEFINE": ("300000000001", "Overdue fine"),
    "LOSTITEMREPLACEMENTFEE": ("300000000002", "Lost item replacement fee"),
    "LOSTITEMPROCESSFEE": ("300000000003", "Lost item process fee"),
    "DAMAGEDITEMFINE": ("300000000004", "Damaged item fine"),
    "RECALLEDOVERDUEFINE": ("300000000005", "Recalled overdue fine"),
    "OTHER": ("300000000006", "Other"),
}


def term_for(day):
    md = day.month * 100 + day.day
    suffix = "2" if md <= 531 else "5" if md <= 814 else "8"
    return "%d%02d%s" % (day.year // 100 - 18, day.year % 100, suffix)


def main():
    src, dst, as_of = sys.argv[1], sys.argv[2], sys.argv[3]
    day = datetime.date.fromisoformat(as_of)
    term = term_for(day)
    due = (day + datetime.timedelta(days=30)).strftime("%Y%m%d")
    count, cents = 0, 0
    with open(dst, "w", encoding="ascii", newline="\n") as out:
        # feesync dates the file with the -as-of day, at midnight
        out.write("H" + day.strftime("%Y%m%d") + "000000LIBRARY   \n")
        for _, el in ET.iterparse(src, events=("end",)):
            if el.tag != NS + "userExportedFineFeesList":
                continue
            emplid = el.findtext(NS + "user/" + NS + "value")
            for fee in el.iter(NS + "userFineFee"):
                item_type, descr = ITEM_TYPES[fee.findtext(NS + "fineFeeType")]
                title = fee.findtext(NS + "itemTitle") or ""
                if title:
                    descr += ": " + title
                amount = fee.findtext(NS + "compositeSum/" + NS + "sum")
                whole, _, frac = amount.partition(".")
                frac = (frac + "00")[:2]
                cents += int(whole) * 100 + int(frac)
                ref = fee.findtext(NS + "bursarTransactionId")
                out.write("D%-11s%s+%08d.%s%s%s%-30s%-30.30s     \n" % (emplid, item_type, int(whole), frac, term, due, ref, descr))
                count += 1
            el.clear()
        out.write("T%09d+%010d.%02d\n" % (count, cents // 100, cents % 100))


if __name__ == "__main__":
    main()
