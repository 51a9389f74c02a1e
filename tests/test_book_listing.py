"""The chapter-2 listing of "Deep Learning with Python" runs with only the imports changed.

BOOK_LISTING is the book's code (1st edition, listings 2.1-2.5 and the evaluation) verbatim
except for the import lines. To keep the suite fast, the test runs it on the first 2,000
training and 1,000 test images: load_data is patched to return that subset and the sample
counts in the two reshape calls are substituted to match.
"""

from __future__ import annotations

import numpy as np

BOOK_LISTING = """
from tensorcore.datasets import mnist

(train_images, train_labels), (test_images, test_labels) = mnist.load_data()

from tensorcore import models
from tensorcore import layers

network = models.Sequential()
network.add(layers.Dense(512, activation='relu', input_shape=(28 * 28,)))
network.add(layers.Dense(10, activation='softmax'))

network.compile(optimizer='rmsprop',
                loss='categorical_crossentropy',
                metrics=['accuracy'])

train_images = train_images.reshape((60000, 28 * 28))
train_images = train_images.astype('float32') / 255

test_images = test_images.reshape((10000, 28 * 28))
test_images = test_images.astype('float32') / 255

from tensorcore.utils import to_categorical

train_labels = to_categorical(train_labels)
test_labels = to_categorical(test_labels)

network.fit(train_images, train_labels, epochs=5, batch_size=128)

test_loss, test_acc = network.evaluate(test_images, test_labels)
print('test_acc:', test_acc)
"""

TRAIN_SUBSET, TEST_SUBSET = 2000, 1000


def test_chapter2_listing_runs_and_learns(monkeypatch, capsys):
    import tensorcore as tc
    from tensorcore.datasets import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    subset = ((x_train[:TRAIN_SUBSET], y_train[:TRAIN_SUBSET]),
              (x_test[:TEST_SUBSET], y_test[:TEST_SUBSET]))
    monkeypatch.setattr(mnist, "load_data", lambda path=None: subset)
    source = (BOOK_LISTING.replace("(60000, 28 * 28)", f"({TRAIN_SUBSET}, 28 * 28)")
              .replace("(10000, 28 * 28)", f"({TEST_SUBSET}, 28 * 28)"))
    tc.random.seed(0)
    namespace: dict = {}
    exec(compile(source, "chapter2_listing", "exec"), namespace)
    output = capsys.readouterr().out
    assert "Epoch 5/5" in output and "test_acc:" in output
    assert namespace["test_acc"] > 0.85
    assert np.isfinite(namespace["test_loss"])
    history = namespace["network"].history.history
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] > history["accuracy"][0]
