"""The paper's models (part 3 of the book, chapters 07-10): build, train, save, evaluate, compare.

===============  ==============================================  ==========
module           what it holds                                   chapter(s)
===============  ==============================================  ==========
``networks``     the paper's MLP, RNN-LSTM and CNN (Keras)       07-09
``inference``    a saved model's forward pass in NumPy           11
``model_files``  a trained model, saving and loading it          07, 11
``training``     fitting the models                              07-09
``evaluation``   metrics, track-level results                    07-10, 13
``experiments``  the one grid runner; the protocol grid          10, 12, 13
``baseline``     MFCC statistics with logistic regression / SVM  10, 13
===============  ==============================================  ==========
"""
