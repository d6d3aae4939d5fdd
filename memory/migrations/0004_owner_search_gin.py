"""Full-text GIN index keyed by owner first (needs the btree_gin extension)."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("memory", "0003_memory_settings"),
    ]

    operations = [
        BtreeGinExtension(),
        migrations.RemoveIndex(
            model_name="memoryitem",
            name="memory_search_gin",
        ),
        migrations.AddIndex(
            model_name="memoryitem",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["owner", "search"], name="memory_owner_search_gin"
            ),
        ),
    ]
