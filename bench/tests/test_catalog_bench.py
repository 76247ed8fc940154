"""The catalog benchmark's choice of product ids: as shoppers view products, the same every
run."""

from collections import Counter

from bench.catalog_bench import popular_ids

PRODUCTS = list(range(1, 1001))


def test_popular_ids_are_the_same_every_run_and_only_products_ids():
    drawn = popular_ids(PRODUCTS, draws=5000)

    assert drawn == popular_ids(PRODUCTS, draws=5000)
    assert set(drawn) <= set(PRODUCTS)


def test_a_few_products_get_most_views_and_they_are_not_the_lowest_ids():
    counts = Counter(popular_ids(PRODUCTS, draws=20_000))
    top_ten = [product for product, _ in counts.most_common(10)]

    # Zipf (s = 1) over 1,000 products: the first ten ranks take about 39% of the views.
    assert 0.33 < sum(counts[p] for p in top_ten) / 20_000 < 0.45
    assert top_ten != list(range(1, 11))
