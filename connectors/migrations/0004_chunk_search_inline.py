"""Keep each passage's tsvector in the row itself (STORAGE MAIN).

A passage row (text, tsvector, a 1.5 kB vector) is over PostgreSQL's 2 kB TOAST
threshold, and by default its tsvector went out of line with the vector: every BM25
candidate then cost a TOAST index lookup and a page or two more. Kept inline, the
text and the vector move out instead, and they are read only for the few rows that
win. Applies to rows written from now on; older rows keep their layout until their
file is indexed again.
"""

from django.db import migrations

TABLE = "connectors_documentchunk"


class Migration(migrations.Migration):
    dependencies = [("connectors", "0003_documents")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE {TABLE} ALTER COLUMN search SET STORAGE MAIN",
            reverse_sql=f"ALTER TABLE {TABLE} ALTER COLUMN search SET STORAGE EXTENDED",
        )
    ]
