"""Our NLU graph components on real Rasa messages."""
import datetime as dt

import numpy as np
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.banking_entities import BankingEntityExtractor
from bot.nlu.sentence_embeddings import SentenceEmbeddingFeaturizer
from bot.nlu.text_normalizer import ORIGINAL_TEXT, TextNormalizer


def test_normalizer_rewrites_messages_and_training_data():
    message = Message({TEXT: "幫我查一下帳戶餘額！"})
    [out] = TextNormalizer().process([message])
    assert out.get(TEXT) == "帮我查一下账户余额!" and out.get(ORIGINAL_TEXT) == "幫我查一下帳戶餘額！"
    data = TrainingData([Message({TEXT: "轉帳", "intent": "transfer_money"})])
    assert TextNormalizer().process_training_data(data).training_examples[0].get(TEXT) == "转账"


def test_normalizer_leaves_annotated_examples_whose_length_would_change():
    text = "转账   尾号6688"  # collapsing the spaces would shift the span
    message = Message({TEXT: text, ENTITIES: [{"entity": "card_last4", "start": 9, "end": 13, "value": "6688"}]})
    [out] = TextNormalizer().process([message])
    assert out.get(TEXT) == text


def test_entity_extractor_adds_to_existing_entities_and_skips_payloads():
    existing = {"entity": "faq_id", "start": 0, "end": 1, "value": "x"}
    messages = [Message({TEXT: "给张三转5000", ENTITIES: [existing]}), Message({TEXT: '/inform{"amount": "5"}'})]
    first, payload = BankingEntityExtractor(today=lambda: dt.date(2026, 11, 24)).process(messages)
    assert first.get(ENTITIES)[0] == existing
    assert {e["entity"]: e["value"] for e in first.get(ENTITIES)[1:]} == {"payee": "张三", "amount": "5000"}
    assert not payload.get(ENTITIES)


def test_sentence_embedding_featurizer_adds_one_normalised_vector(encoder):
    featurizer = SentenceEmbeddingFeaturizer({**SentenceEmbeddingFeaturizer.get_default_config()},
                                             "SentenceEmbeddingFeaturizer")
    messages = [Message({TEXT: "我要挂失"}), Message({TEXT: "查余额"}), Message({TEXT: ""})]
    featurizer.process(messages)
    sequence, sentence = messages[0].get_dense_features(TEXT, [])
    assert sequence is None and sentence.features.shape == (1, 384)
    assert np.isclose(np.linalg.norm(sentence.features), 1.0, atol=1e-4)
    assert messages[2].get_dense_features(TEXT, []) == (None, None)


def test_question_or_request_learns_the_form_of_the_sentence(encoder, tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.nlu.question_form import QUESTION_KEY, QuestionOrRequestClassifier

    requests = ["帮我挂失银行卡", "我要转账给张三", "查一下我的余额", "帮我还信用卡", "我要预约网点", "给我转五千块",
                "冻结我的卡", "帮我查下这个月的账单", "我要投诉", "帮我重置登录密码", "我要申请信用卡", "转人工"]
    data = TrainingData([Message({TEXT: t, "intent": i}) for t, i in zip(
        requests, ["report_card_loss", "transfer_money", "check_balance", "credit_card_repay", "book_appointment",
                   "transfer_money", "report_card_loss", "credit_card_bill", "complaint", "reset_password",
                   "apply_credit_card", "request_human"])] + [Message({TEXT: "转账手续费怎么收", "intent": "faq"})])
    storage, resource = LocalModelStorage(tmp_path), Resource("question_form")
    config = QuestionOrRequestClassifier.get_default_config()
    QuestionOrRequestClassifier.create(config, storage, resource, None).train(data)
    loaded = QuestionOrRequestClassifier.load(config, storage, resource, None)
    question, request, empty = loaded.process([Message({TEXT: "挂失以后多久能补新卡"}),
                                               Message({TEXT: "帮我把尾号6688的卡挂失"}), Message({TEXT: ""})])
    assert question.get(QUESTION_KEY)["probability"] > 0.5 > request.get(QUESTION_KEY)["probability"]
    assert empty.get(QUESTION_KEY) is None
    assert QuestionOrRequestClassifier.fingerprint_addon(config)  # the KB phrasings and encoder enter Rasa's cache key
